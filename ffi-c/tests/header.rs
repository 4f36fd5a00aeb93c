//! The committed header `include/keyplane.h` equals a fresh cbindgen generation.

use std::path::PathBuf;

const REGENERATE: &str = "KEYPLANE_REGENERATE_HEADER=1 cargo test -p keyplane-ffi --test header";

#[test]
fn committed_header_is_current() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("ffi-c/cbindgen.toml parses");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let path = crate_dir.join("include/keyplane.h");
    if std::env::var_os("KEYPLANE_REGENERATE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("include/keyplane.h is writable");
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ffi-c/include/keyplane.h differs from what cbindgen generates from ffi-c/src: \
         regenerate it with `{REGENERATE}` and commit it"
    );
}
