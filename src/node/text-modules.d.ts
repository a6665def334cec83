// The /stat page's browser files, imported as their source text: esbuild's `text` loader
// here, wrangler's Text rule on Workers (whose generated types declare the same modules).
declare module "*.client.js" {
  const source: string;
  export default source;
}

declare module "*.client.css" {
  const source: string;
  export default source;
}
