/** Text modules the Worker bundle embeds (wrangler's Text rules, edge/wrangler.jsonc). */
declare module "*.html" {
  const text: string;
  export default text;
}
declare module "hls.js/dist/hls.light.min.js" {
  const source: string;
  export default source;
}
