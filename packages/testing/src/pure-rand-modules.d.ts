// pure-rand publishes its entry points only through package.json "exports",
// which the workspace's `moduleResolution: node` does not read. These aliases
// point the public subpaths at the type files the package ships, so the types
// stay the library's own and Node still loads the public subpaths at run time.
declare module 'pure-rand/generator/xoroshiro128plus' {
  export { xoroshiro128plus } from 'pure-rand/lib/generator/xoroshiro128plus';
}
declare module 'pure-rand/distribution/uniformInt' {
  export { uniformInt } from 'pure-rand/lib/distribution/uniformInt';
}
declare module 'pure-rand/distribution/uniformFloat64' {
  export { uniformFloat64 } from 'pure-rand/lib/distribution/uniformFloat64';
}
