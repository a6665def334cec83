// The browser files under this folder reach the worker as Text modules (see
// wrangler.jsonc `rules` and ../assets.ts): importing one yields its source text.
declare module "*.client.js" {
  const source: string;
  export default source;
}

declare module "*.client.css" {
  const source: string;
  export default source;
}
