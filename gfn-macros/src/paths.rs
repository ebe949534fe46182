//! The path of the runtime crate in generated code.
//!
//! Generated code names everything absolutely. The crate is found in the user's `Cargo.toml`
//! (bevy's manifest trick, via `proc-macro-crate`): `gfn-core` if it is a dependency (under
//! whatever name it was renamed to), else the facade `gfn`, which re-exports `gfn_core`.
//! `#[state(crate = "..")]`, `#[action(crate = "..")]` and `#[environment(crate = "..")]` override
//! the search (serde's escape hatch).

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Ident, Path};

/// The path to `gfn_core` (or its re-export) for generated code.
pub(crate) fn runtime(explicit: Option<&Path>) -> TokenStream {
    if let Some(path) = explicit {
        return quote!(#path);
    }
    let found = crate_name("gfn-core").map(|c| (c, "gfn_core")).or_else(|_| crate_name("gfn").map(|c| (c, "gfn")));
    let name = match found {
        Ok((FoundCrate::Name(name), _)) => name,
        Ok((FoundCrate::Itself, own)) => own.to_owned(),
        Err(_) => "gfn_core".to_owned(),
    };
    let ident = Ident::new(&name, Span::call_site());
    quote!(::#ident)
}
