// Shader sources are imported as strings with Vite's `?raw` suffix; Vite inlines them at build time.
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
