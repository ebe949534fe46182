//! `#[environment(state = S, action = A)]`: the `Environment` impl that forwards to the user's
//! domain methods.
//!
//! The impl block itself is kept unchanged (its methods stay callable inherent methods). The
//! generated impl decodes action indices with the action's [`Action`] impl, builds masks by asking
//! `allowed` / `can_revert` for each action (no allocation), and checks every index before calling
//! `apply` / `revert`, so invalid input returns an error instead of reaching user code. The hot
//! methods are `#[inline]`, so that a sampler in another crate inlines them; a step decodes the
//! index once and asks `allowed` once, and only a refused step builds its error (out of line).
//!
//! [`Action`]: https://docs.rs/gfn-core/latest/gfn_core/env/trait.Action.html

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ItemImpl;

use crate::ast::EnvInput;
use crate::attr::{EnvArgs, Errors};
use crate::valid::{self, EnvPlan};
use crate::{fallback, paths};

/// Expands `#[environment(..)]` on `item`, or the errors plus the unchanged block and a stub impl.
pub(crate) fn attribute(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = EnvArgs::parse(args, &mut errors);
    let krate = paths::runtime(args.krate.get());
    let item: ItemImpl = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                "#[environment(..)] goes on an impl block: `impl MyEnv { fn source(&self) -> S { .. } .. }`",
            );
            errors.push(error);
            let error = errors.finish().expect_err("an error was pushed");
            return fallback::unparsed(item, &error);
        }
    };
    let input = EnvInput::from_syn(args, &item);
    let plan = valid::environment(&input, &mut errors);
    match (errors.finish(), plan) {
        (Ok(()), Some(plan)) => expand(&input, &plan, &krate),
        (result, _) => {
            let error = result.err().unwrap_or_else(|| syn::Error::new_spanned(&item.self_ty, "invalid environment"));
            fallback::environment(&input, &krate, &error)
        }
    }
}

fn expand(input: &EnvInput<'_>, plan: &EnvPlan, krate: &TokenStream) -> TokenStream {
    let item = input.item;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    let (state, action, name) = (&plan.state, &plan.action, &plan.name);
    // Calls are spanned at the user's method names, so a wrong signature is reported there.
    let call = |method: &str, args: TokenStream| {
        let ident = &input.method(method).expect("validated: the method exists").sig.ident;
        quote_spanned!(ident.span()=> Self::#ident(#args))
    };
    let source = call("source", quote!(self));
    let allowed = call("allowed", quote!(self, state, action));
    let allowed_ref = call("allowed", quote!(self, &*state, action));
    let apply = call("apply", quote!(self, state, action));
    let can_revert = call("can_revert", quote!(self, state, action));
    let can_revert_ref = call("can_revert", quote!(self, &*state, action));
    let revert = call("revert", quote!(self, state, action));
    let log_reward = call("log_reward", quote!(self, state));
    let signature = plan.signature.then(|| {
        let signature = call("signature", quote!(self));
        quote! {
            fn signature(&self) -> ::std::string::String {
                #signature
            }
        }
    });
    let enumerable = plan.enumerable.then(|| {
        quote! {
            #[automatically_derived]
            impl #impl_generics #krate::__private::Enumerable for #self_ty #where_clause {}
        }
    });
    let a = quote!(<#action as #krate::__private::Action<Self>>);
    quote! {
        #item

        const _: () = {
            #[automatically_derived]
            impl #impl_generics #krate::__private::Environment for #self_ty #where_clause {
                type State = #state;

                fn name(&self) -> ::std::string::String {
                    ::std::string::String::from(#name)
                }
                #[inline]
                fn action_count(&self) -> usize {
                    #a::count(self)
                }
                #[inline]
                fn exit_action(&self) -> usize {
                    #a::exit_index(self)
                }
                #[inline]
                fn feature_dim(&self) -> usize {
                    <#state as #krate::__private::State<Self>>::feature_dim(self)
                }
                fn source(&self) -> #state {
                    #source
                }
                #[inline]
                fn forward_mask(&self, state: &#state, mask: &mut [bool]) {
                    #krate::__private::fill_mask::<Self, #action>(self, mask, |action| #allowed);
                }
                #[inline]
                fn backward_mask(&self, state: &#state, mask: &mut [bool]) {
                    #krate::__private::fill_mask::<Self, #action>(self, mask, |action| {
                        !#krate::__private::Action::<Self>::is_exit(&action) && #can_revert
                    });
                }
                #[inline]
                fn step(&self, state: &mut #state, action: usize) -> #krate::__private::Result<()> {
                    let __decoded: ::core::option::Option<#action> = #a::from_index(action, self);
                    if let ::core::option::Option::Some(action) = __decoded {
                        if !#krate::__private::Action::<Self>::is_exit(&action) && #allowed_ref {
                            #apply;
                            return ::core::result::Result::Ok(());
                        }
                    }
                    ::core::result::Result::Err(
                        #krate::__private::forward_error::<Self, #action, #state>(self, &*state, action, __decoded),
                    )
                }
                #[inline]
                fn backward_step(&self, state: &mut #state, action: usize) -> #krate::__private::Result<()> {
                    let __decoded: ::core::option::Option<#action> = #a::from_index(action, self);
                    if let ::core::option::Option::Some(action) = __decoded {
                        if !#krate::__private::Action::<Self>::is_exit(&action) && #can_revert_ref {
                            #revert;
                            return ::core::result::Result::Ok(());
                        }
                    }
                    ::core::result::Result::Err(
                        #krate::__private::backward_error::<Self, #action, #state>(self, &*state, action, __decoded),
                    )
                }
                fn log_reward(&self, state: &#state) -> f64 {
                    #log_reward
                }
                #[inline]
                fn encode(&self, state: &#state, out: &mut [f32]) {
                    <#state as #krate::__private::State<Self>>::encode_into(state, self, out);
                }
                #signature
            }
            #enumerable
        };
    }
}
