//! Procedural macros of the `gfn` framework.
