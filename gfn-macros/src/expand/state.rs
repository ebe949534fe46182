//! `#[derive(State)]`: the feature encoding.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, WherePredicate, parse_quote_spanned};

use super::target;
use crate::ast::StateInput;
use crate::attr::Errors;
use crate::valid::{self, Enc};
use crate::{fallback, paths};

/// Expands `#[derive(State)]`, or the errors plus a stub impl.
pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let ast = StateInput::from_syn(input, &mut errors);
    let krate = paths::runtime(ast.attrs.krate.get());
    let plan = valid::state(&ast, &mut errors);
    if let Err(error) = errors.finish() {
        return fallback::state(input, &krate, &error);
    }
    // Bounds only for nested types that mention a type parameter (serde's rule): the others are
    // checked where they are used, so a missing impl is reported at the user's field.
    let params: Vec<String> = input.generics.type_params().map(|p| p.ident.to_string()).collect();
    let mut bounds = Vec::new();
    for (_, enc) in &plan.fields {
        nested_bounds(enc, &krate, ast.attrs.env.get(), &params, &mut bounds);
    }
    let t = target(input, ast.attrs.env.get(), bounds);
    let g = Gen { krate: &krate, env: &t.env };
    let dims = plan.fields.iter().map(|(_, enc)| g.dim(enc));
    let blocks = plan.fields.iter().map(|(member, enc)| {
        let dim = g.dim(enc);
        let body = g.encode(enc, &quote!(__value), &quote!(__out), 0);
        quote! {
            {
                let __dim: usize = #dim;
                let __out: &mut [f32] = &mut out[__at..__at + __dim];
                let __value = &self.#member;
                #body
                __at += __dim;
            }
        }
    });
    let (impl_generics, ty, where_clause, env) = (&t.impl_generics, &t.ty, &t.where_clause, &t.env);
    quote! {
        const _: () = {
            #[automatically_derived]
            #[allow(unused_variables, unused_assignments, unused_mut, clippy::all)]
            impl #impl_generics #krate::__private::State<#env> for #ty #where_clause {
                fn feature_dim(env: &#env) -> usize {
                    0usize #(+ #dims)*
                }
                fn encode_into(&self, env: &#env, out: &mut [f32]) {
                    let mut __at = 0usize;
                    #(#blocks)*
                }
            }
        };
    }
}

fn nested_bounds(
    enc: &Enc,
    krate: &TokenStream,
    env: Option<&syn::Type>,
    params: &[String],
    out: &mut Vec<WherePredicate>,
) {
    match enc {
        Enc::Array(_, inner) | Enc::Vec(_, inner) => nested_bounds(inner, krate, env, params, out),
        Enc::Nested(ty) if mentions(ty.to_token_stream(), params) => {
            let env = env.map_or_else(|| quote!(__GfnEnv), |e| quote!(#e));
            out.push(parse_quote_spanned!(ty.span()=> #ty: #krate::__private::State<#env>));
        }
        _ => {}
    }
}

fn mentions(tokens: TokenStream, names: &[String]) -> bool {
    tokens.into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Ident(ident) => names.iter().any(|n| ident == n),
        proc_macro2::TokenTree::Group(group) => mentions(group.stream(), names),
        _ => false,
    })
}

/// Code generation context: the runtime crate and the environment type.
struct Gen<'a> {
    krate: &'a TokenStream,
    env: &'a TokenStream,
}

impl Gen<'_> {
    /// The length of an encoding, as a `usize` expression (may read `env`).
    fn dim(&self, enc: &Enc) -> TokenStream {
        let (krate, env) = (self.krate, self.env);
        match enc {
            Enc::OneHot(bound) => bound.size(),
            Enc::Scalar(_) => quote!(1usize),
            Enc::Bits(n) => quote!(((#n) as usize)),
            Enc::Array(n, inner) => {
                let inner = self.dim(inner);
                quote!(((#n) as usize * #inner))
            }
            Enc::Vec(n, inner) => {
                let inner = self.dim(inner);
                quote!(((#n) as usize * #inner))
            }
            Enc::Nested(ty) => {
                quote_spanned!(ty.span()=> <#ty as #krate::__private::State<#env>>::feature_dim(env))
            }
        }
    }

    /// Statements encoding the value `value` (a reference) into the slice `out`.
    fn encode(&self, enc: &Enc, value: &TokenStream, out: &TokenStream, depth: usize) -> TokenStream {
        let (krate, env) = (self.krate, self.env);
        match enc {
            Enc::OneHot(bound) => {
                let lo = bound.lo();
                quote!(#krate::__private::one_hot_into(#out, *#value as i128, #lo);)
            }
            Enc::Scalar(bound) => {
                let (lo, size) = (bound.lo(), bound.size());
                quote!(#krate::__private::scalar_into(#out, *#value as i128, #lo, #size);)
            }
            Enc::Bits(_) => quote!(#krate::__private::bits_into(#out, *#value as u128);),
            Enc::Array(_, inner) | Enc::Vec(_, inner) => {
                let item = format_ident!("__item{}", depth);
                let position = format_ident!("__position{}", depth);
                let width = format_ident!("__width{}", depth);
                let dim = self.dim(inner);
                // Direct slicing (no `chunks_mut`): no division or chunk iterator per element.
                let slot = quote!(&mut (#out)[#position * #width..(#position + 1) * #width]);
                let body = self.encode(inner, &quote!(#item), &slot, depth + 1);
                quote! {
                    let #width: usize = #dim;
                    for (#position, #item) in #value.iter().enumerate() {
                        #body
                    }
                }
            }
            Enc::Nested(ty) => quote_spanned! {ty.span()=>
                <#ty as #krate::__private::State<#env>>::encode_into(#value, env, #out);
            },
        }
    }
}
