//! The `gfn` command-line tool.
fn main() {}
