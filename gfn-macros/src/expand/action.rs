//! `#[derive(Action)]`: the flat action index.
//!
//! Layout: variants in declaration order, each taking the product of its payload fields' sizes
//! (a unit variant takes one index); inside a variant, mixed radix with the first field most
//! significant. `Add { item: 0..n }, Exit` gives `Add { item: i } -> i` and `Exit -> n`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{DeriveInput, Fields, Ident, Member, Type};

use super::target;
use crate::ast::ActionInput;
use crate::attr::Errors;
use crate::valid::{self, ActionPlan, Payload};
use crate::{fallback, paths};

/// Expands `#[derive(Action)]`, or the errors plus a stub impl.
pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let ast = ActionInput::from_syn(input, &mut errors);
    let krate = paths::runtime(ast.attrs.krate.get());
    let plan = valid::action(&ast, &mut errors);
    if let Err(error) = errors.finish() {
        return fallback::action(input, &krate, &error);
    }
    let t = target(input, ast.attrs.env.get(), Vec::new());
    let sizes: Vec<TokenStream> = plan.variants.iter().map(|fields| variant_size(fields)).collect();
    let n = sizes.len();
    let idents: Vec<&Ident> = ast.variants.iter().map(|v| v.ident).collect();
    let index_arms = ast.variants.iter().zip(&plan.variants).enumerate().map(|(k, (v, fields))| {
        let pattern = construct(v.ident, v.fields, fields, |i| {
            let f = format_ident!("__f{i}");
            quote!(#f)
        });
        let digits = fields.iter().enumerate().map(|(i, (_, _, payload))| {
            let f = format_ident!("__f{i}");
            let size = payload_size(payload);
            let digit = match payload {
                Payload::Bool => quote!(usize::from(*#f)),
                Payload::Range(bound) => {
                    let lo = bound.lo();
                    quote!((*#f as usize).wrapping_sub(#lo))
                }
            };
            quote!(__index = __index * #size + #digit;)
        });
        quote! {
            #pattern => {
                let mut __index = 0usize;
                #(#digits)*
                __sizes[..#k].iter().sum::<usize>() + __index
            }
        }
    });
    let decoders = ast.variants.iter().zip(&plan.variants).enumerate().map(|(k, (v, fields))| {
        let digits = fields.iter().enumerate().rev().map(|(i, (_, _, payload))| {
            let d = format_ident!("__d{i}");
            if i == 0 {
                // The most significant digit is what remains: no division (single-field
                // variants decode without any).
                return quote!(let #d = __rest;);
            }
            let size = payload_size(payload);
            quote! {
                let #d = __rest % #size;
                __rest /= #size;
            }
        });
        let value = construct(v.ident, v.fields, fields, |i| digit_value(fields, i));
        quote! {
            if __rest < __sizes[#k] {
                #(#digits)*
                return ::core::option::Option::Some(#value);
            }
            __rest -= __sizes[#k];
        }
    });
    // `for_each` in index order with one loop per payload field (first field outermost), so masks
    // are filled without decoding any index.
    let enumerators = ast.variants.iter().zip(&plan.variants).map(|(v, fields)| {
        let value = construct(v.ident, v.fields, fields, |i| digit_value(fields, i));
        let mut body = quote! {
            f(__index, #value);
            __index += 1;
        };
        for (i, (_, _, payload)) in fields.iter().enumerate().rev() {
            let (d, size) = (format_ident!("__d{i}"), payload_size(payload));
            body = quote!(for #d in 0..#size { #body });
        }
        body
    });
    let exit = idents[plan.exit];
    let count_const = count_const(input, &plan, &sizes);
    let (impl_generics, ty, where_clause, env) = (&t.impl_generics, &t.ty, &t.where_clause, &t.env);
    quote! {
        const _: () = {
            #[automatically_derived]
            #[allow(unused_variables, unused_mut, unused_assignments, clippy::all)]
            impl #impl_generics #krate::__private::Action<#env> for #ty #where_clause {
                #[inline]
                fn count(env: &#env) -> usize {
                    0usize #(+ #sizes)*
                }
                #[inline]
                fn index(&self, env: &#env) -> usize {
                    let __sizes: [usize; #n] = [#(#sizes),*];
                    match self { #(#index_arms)* }
                }
                #[inline]
                fn from_index(index: usize, env: &#env) -> ::core::option::Option<Self> {
                    let __sizes: [usize; #n] = [#(#sizes),*];
                    let mut __rest = index;
                    #(#decoders)*
                    ::core::option::Option::None
                }
                #[inline]
                fn exit() -> Self {
                    Self::#exit
                }
                #[inline]
                fn for_each(env: &#env, mut f: impl FnMut(usize, Self)) {
                    let mut __index = 0usize;
                    #(#enumerators)*
                }
                #[inline]
                fn is_exit(&self) -> bool {
                    ::core::matches!(self, Self::#exit)
                }
            }
            #count_const
        };
    }
}

/// `pub const COUNT: usize` when no bound reads the environment.
fn count_const(input: &DeriveInput, plan: &ActionPlan<'_>, sizes: &[TokenStream]) -> TokenStream {
    if plan.runtime {
        return TokenStream::new();
    }
    let (ident, vis) = (&input.ident, &input.vis);
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        #[allow(clippy::all)]
        impl #impl_generics #ident #ty_generics #where_clause {
            /// The number of actions, exit included (every bound is a constant).
            #vis const COUNT: usize = 0usize #(+ #sizes)*;
        }
    }
}

fn payload_size(payload: &Payload) -> TokenStream {
    match payload {
        Payload::Bool => quote!(2usize),
        Payload::Range(bound) => bound.size(),
    }
}

fn variant_size(fields: &[(Member, &Type, Payload)]) -> TokenStream {
    let sizes = fields.iter().map(|(_, _, p)| payload_size(p));
    quote!((1usize #(* #sizes)*))
}

/// The value of payload field `i` from its digit `__d{i}`.
fn digit_value(fields: &[(Member, &Type, Payload)], i: usize) -> TokenStream {
    let d = format_ident!("__d{i}");
    match &fields[i].2 {
        Payload::Bool => quote!(#d == 1),
        // In the field's own type, wrapping: exact for every in-range value, whatever the sign.
        Payload::Range(bound) => {
            let ty = fields[i].1;
            let lo = bound.lo_as(&quote!(#ty));
            quote!(#lo.wrapping_add(#d as #ty))
        }
    }
}

/// `Self::V`, `Self::V(a, b)` or `Self::V { x: a, y: b }` with `value(i)` for field `i`.
fn construct(
    ident: &Ident,
    style: &Fields,
    fields: &[(Member, &Type, Payload)],
    value: impl Fn(usize) -> TokenStream,
) -> TokenStream {
    let values = (0..fields.len()).map(value);
    match style {
        Fields::Unit => quote!(Self::#ident),
        Fields::Unnamed(_) => quote!(Self::#ident(#(#values),*)),
        Fields::Named(_) => {
            let members = fields.iter().map(|(m, _, _)| m);
            quote!(Self::#ident { #(#members: #values),* })
        }
    }
}
