//! Built-in environments of the `gfn` framework.
