//! Output on error: the `compile_error!`s plus stub impls whose bodies are never run, so that the
//! user sees the real mistake and not a cascade of "trait not implemented" errors where the type
//! is used (thiserror's fallback idea).

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use super::expand::target;
use crate::ast::EnvInput;

/// The errors and a stub `State` impl for every environment.
pub(crate) fn state(input: &DeriveInput, krate: &TokenStream, error: &syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    let t = target(input, None, Vec::new());
    let (impl_generics, ty, where_clause, env) = (&t.impl_generics, &t.ty, &t.where_clause, &t.env);
    quote! {
        #errors
        const _: () = {
            #[allow(unused_variables)]
            impl #impl_generics #krate::__private::State<#env> for #ty #where_clause {
                fn feature_dim(env: &#env) -> usize {
                    ::core::unreachable!("#[derive(State)] failed")
                }
                fn encode_into(&self, env: &#env, out: &mut [f32]) {
                    ::core::unreachable!("#[derive(State)] failed")
                }
            }
        };
    }
}

/// The errors and a stub `Action` impl for every environment.
pub(crate) fn action(input: &DeriveInput, krate: &TokenStream, error: &syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    let t = target(input, None, Vec::new());
    let (impl_generics, ty, where_clause, env) = (&t.impl_generics, &t.ty, &t.where_clause, &t.env);
    quote! {
        #errors
        const _: () = {
            #[allow(unused_variables)]
            impl #impl_generics #krate::__private::Action<#env> for #ty #where_clause {
                fn count(env: &#env) -> usize {
                    ::core::unreachable!("#[derive(Action)] failed")
                }
                fn index(&self, env: &#env) -> usize {
                    ::core::unreachable!("#[derive(Action)] failed")
                }
                fn from_index(index: usize, env: &#env) -> ::core::option::Option<Self> {
                    ::core::unreachable!("#[derive(Action)] failed")
                }
                fn exit() -> Self {
                    ::core::unreachable!("#[derive(Action)] failed")
                }
                fn is_exit(&self) -> bool {
                    ::core::unreachable!("#[derive(Action)] failed")
                }
            }
        };
    }
}

/// The errors, the unchanged impl block and a stub `Environment` impl.
pub(crate) fn environment(input: &EnvInput<'_>, krate: &TokenStream, error: &syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    let item = input.item;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    let state = input.args.state.get().map_or_else(|| quote!(()), |s| quote!(#s));
    let enumerable = input
        .args
        .enumerable
        .is_set()
        .then(|| quote!(impl #impl_generics #krate::__private::Enumerable for #self_ty #where_clause {}));
    let stub = if item.trait_.is_some() {
        TokenStream::new()
    } else {
        quote! {
            const _: () = {
                #[allow(unused_variables)]
                impl #impl_generics #krate::__private::Environment for #self_ty #where_clause {
                    type State = #state;
                    fn name(&self) -> ::std::string::String { ::core::unreachable!() }
                    fn action_count(&self) -> usize { ::core::unreachable!() }
                    fn exit_action(&self) -> usize { ::core::unreachable!() }
                    fn feature_dim(&self) -> usize { ::core::unreachable!() }
                    fn source(&self) -> #state { ::core::unreachable!() }
                    fn forward_mask(&self, state: &#state, mask: &mut [bool]) { ::core::unreachable!() }
                    fn backward_mask(&self, state: &#state, mask: &mut [bool]) { ::core::unreachable!() }
                    fn step(&self, state: &mut #state, action: usize) -> #krate::__private::Result<()> { ::core::unreachable!() }
                    fn backward_step(&self, state: &mut #state, action: usize) -> #krate::__private::Result<()> { ::core::unreachable!() }
                    fn log_reward(&self, state: &#state) -> f64 { ::core::unreachable!() }
                    fn encode(&self, state: &#state, out: &mut [f32]) { ::core::unreachable!() }
                }
                #enumerable
            };
        }
    };
    quote! {
        #errors
        #item
        #stub
    }
}

/// The errors and the item as written, when it is not even an impl block.
pub(crate) fn unparsed(item: TokenStream, error: &syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    quote! {
        #errors
        #item
    }
}
