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
        let mut hoisted = Vec::new();
        let body = g.encode(enc, &quote!(__value), &quote!(0usize), &quote!(__dim), 0, &mut hoisted);
        quote! {
            {
                let __dim: usize = #dim;
                let __out: &mut [f32] = &mut out[__at..__at + __dim];
                #(#hoisted)*
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
                #[inline]
                fn feature_dim(env: &#env) -> usize {
                    0usize #(+ #dims)*
                }
                #[inline]
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

    /// Statements encoding the value `value` (a reference) into `__out[offset..offset + width]`
    /// (`__out` is the field's slice, `width` a variable holding [`Gen::dim`] of `enc`).
    /// Loop-invariant values (bounds, element widths) go into `hoisted`, evaluated once per field;
    /// leaves index `__out` directly instead of slicing it per element.
    fn encode(
        &self,
        enc: &Enc,
        value: &TokenStream,
        offset: &TokenStream,
        width: &TokenStream,
        depth: usize,
        hoisted: &mut Vec<TokenStream>,
    ) -> TokenStream {
        let (krate, env) = (self.krate, self.env);
        let slice = quote!(&mut __out[#offset..#offset + #width]);
        match enc {
            Enc::OneHot(bound) => {
                let lo = format_ident!("__lo{}", depth);
                let lo_value = bound.lo();
                hoisted.push(quote!(let #lo: usize = #lo_value;));
                quote! {
                    let __slot = (*#value as usize).wrapping_sub(#lo);
                    ::core::debug_assert!(__slot < #width, "a one-hot value lies outside its range");
                    if __slot < #width {
                        __out[#offset + __slot] = 1.0;
                    }
                }
            }
            Enc::Scalar(bound) => {
                let (lo, lo_value) = (format_ident!("__lo{}", depth), bound.lo_as(&quote!(i64)));
                let (scale, size) = (format_ident!("__scale{}", depth), bound.size());
                // `i64` keeps values below the range negative, as the formula does.
                hoisted.push(quote! {
                    let #lo: i64 = #lo_value;
                    let #scale: usize = (#size).saturating_sub(1);
                });
                quote! {
                    __out[#offset] = if #scale > 0 {
                        (*#value as i64).wrapping_sub(#lo) as f32 / #scale as f32
                    } else {
                        0.0
                    };
                }
            }
            Enc::Bits(_) => quote!(#krate::__private::bits_into(#slice, *#value as u128);),
            Enc::Array(_, inner) | Enc::Vec(_, inner) => {
                let item = format_ident!("__item{}", depth);
                let position = format_ident!("__position{}", depth);
                let inner_width = format_ident!("__width{}", depth);
                let inner_offset = format_ident!("__offset{}", depth);
                let dim = self.dim(inner);
                hoisted.push(quote!(let #inner_width: usize = #dim;));
                let body = self.encode(
                    inner,
                    &quote!(#item),
                    &quote!(#inner_offset),
                    &quote!(#inner_width),
                    depth + 1,
                    hoisted,
                );
                quote! {
                    for (#position, #item) in #value.iter().enumerate() {
                        let #inner_offset = #offset + #position * #inner_width;
                        #body
                    }
                }
            }
            Enc::Nested(ty) => quote_spanned! {ty.span()=>
                <#ty as #krate::__private::State<#env>>::encode_into(#value, env, #slice);
            },
        }
    }
}
