//! Sets the linker flags a Node-API addon needs (undefined `napi_*` symbols resolved at load).

fn main() {
    napi_build::setup();
}
