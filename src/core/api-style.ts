/** The two wire dialects the proxy speaks; every error it produces follows the caller's. */
export type ApiStyle = "gemini" | "openai";
