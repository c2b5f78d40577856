//! Build script: compiles `proto/krawall_mock.proto` (the mock chatbot's gRPC service) with
//! protox, so no system `protoc` is needed, and generates the tonic server code for it.

use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(["krawall_mock.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
