//! Compile-fail tests of the macros' error messages (trybuild).
//!
//! The `.stderr` files are blessed on the installed rustc (1.95): after a compiler upgrade or a
//! message change, re-bless with `TRYBUILD=overwrite cargo test -p gfn-macros --test ui` and review
//! the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
