//! Generates the Raft gRPC service from `proto/raft.proto`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/raft.proto");
    tonic_build::configure()
        .build_server(true)
        .build_client(true)
        // Payloads are opaque bincode, so `bytes::Bytes` saves a copy per message.
        .bytes(["."])
        .compile_protos(&["proto/raft.proto"], &["proto"])?;
    Ok(())
}
