//! Code generation from validated plans. Every output sits in a `const _: () = { .. };` block,
//! names the runtime crate absolutely and carries `#[automatically_derived]`.

pub(crate) mod action;
pub(crate) mod environment;
pub(crate) mod state;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{DeriveInput, Type, WherePredicate, parse_quote};

/// The pieces of an `impl … Trait<Env> for Type where …` header.
pub(crate) struct Target {
    pub(crate) impl_generics: TokenStream,
    pub(crate) ty: TokenStream,
    pub(crate) where_clause: TokenStream,
    pub(crate) env: TokenStream,
}

/// The impl header for `input`: for the declared environment type, or for every environment
/// (`__GfnEnv: ?Sized`) when none is declared; `bounds` go into the `where` clause.
pub(crate) fn target(input: &DeriveInput, env: Option<&Type>, bounds: Vec<WherePredicate>) -> Target {
    let mut generics = input.generics.clone();
    let env = match env {
        Some(ty) => ty.to_token_stream(),
        None => {
            generics.params.push(parse_quote!(__GfnEnv: ?::core::marker::Sized));
            quote!(__GfnEnv)
        }
    };
    generics.make_where_clause().predicates.extend(bounds);
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let (_, ty_generics, _) = input.generics.split_for_impl();
    let ident = &input.ident;
    Target {
        impl_generics: impl_generics.to_token_stream(),
        ty: quote!(#ident #ty_generics),
        where_clause: where_clause.to_token_stream(),
        env,
    }
}
