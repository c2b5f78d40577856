//! Krawall binary entry point.
fn main() {}
