//! Semantic checks, lowering the IR of `ast.rs` into the plans that `expand/` turns into code.
//!
//! Every rule reports into the shared [`Errors`] and carries on, so one build shows every
//! mistake. A plan is only expanded when no error was found.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::{Expr, Member, RangeLimits, Type};

use crate::ast::{ActionInput, EnvInput, Shape, StateField, StateInput, shape};
use crate::attr::{Errors, closest};

/// A validated integer range `lo..hi` or `lo..=hi`; its bounds may read the environment.
pub(crate) struct Bound {
    pub(crate) lo: Expr,
    pub(crate) hi: Expr,
    pub(crate) inclusive: bool,
}

impl Bound {
    /// The number of values, as a `usize` expression.
    pub(crate) fn size(&self) -> TokenStream {
        if let (Some(lo), Some(hi)) = (int_literal(&self.lo), int_literal(&self.hi)) {
            let size = usize::try_from(hi - lo + i128::from(self.inclusive)).unwrap_or(0);
            return quote!(#size);
        }
        let (hi, extra) = (&self.hi, usize::from(self.inclusive));
        if int_literal(&self.lo) == Some(0) {
            return quote!(((#hi) as usize).wrapping_add(#extra));
        }
        let lo = self.lo();
        quote!(((#hi) as usize).wrapping_sub(#lo).wrapping_add(#extra))
    }

    /// The lower bound, as a `usize` expression. Negative bounds wrap around (two's complement),
    /// so `(value as usize).wrapping_sub(lo)` is the exact offset of an in-range `value` of any
    /// integer type, with no 128-bit arithmetic at run time.
    pub(crate) fn lo(&self) -> TokenStream {
        self.lo_as(&quote!(usize))
    }

    /// The lower bound cast (`as`, wrapping) to the integer type `ty`. A literal bound gets an
    /// `i128` suffix: unsuffixed, `-2 as usize` would type the literal as `usize` and not compile.
    pub(crate) fn lo_as(&self, ty: &TokenStream) -> TokenStream {
        match int_literal(&self.lo) {
            Some(value) => {
                let value = proc_macro2::Literal::i128_suffixed(value);
                quote!((#value as #ty))
            }
            None => {
                let lo = &self.lo;
                quote!(((#lo) as #ty))
            }
        }
    }
}

/// How one state field is encoded.
pub(crate) enum Enc {
    OneHot(Bound),
    Scalar(Bound),
    Bits(Expr),
    Array(Expr, Box<Enc>),
    Vec(Expr, Box<Enc>),
    Nested(Type),
}

/// A validated `#[derive(State)]`: the encoded fields, in order.
pub(crate) struct StatePlan {
    pub(crate) fields: Vec<(Member, Enc)>,
}

/// A validated payload field of an action variant.
pub(crate) enum Payload {
    Bool,
    Range(Box<Bound>),
}

/// A validated `#[derive(Action)]`.
pub(crate) struct ActionPlan<'a> {
    /// Per variant, its payload fields with their types.
    pub(crate) variants: Vec<Vec<(Member, &'a Type, Payload)>>,
    /// The position of the exit variant.
    pub(crate) exit: usize,
    /// Whether some bound reads the environment (no `COUNT` constant then).
    pub(crate) runtime: bool,
}

/// A validated `#[environment(..)]` block.
pub(crate) struct EnvPlan {
    pub(crate) state: Type,
    pub(crate) action: Type,
    pub(crate) name: String,
    pub(crate) enumerable: bool,
    pub(crate) signature: bool,
}

/// Context of the expressions inside attributes.
struct Exprs {
    /// Which attribute namespace (`state` or `action`), for messages.
    ns: &'static str,
    /// Whether the container declared `env = Type`.
    env_declared: bool,
    /// Whether some expression reads `env`.
    runtime: bool,
}

impl Exprs {
    /// Checks that `expr` reads the environment only as `env`, and only when it is declared.
    fn check(&mut self, expr: &Expr, errors: &mut Errors) {
        let (mut uses_env, mut uses_self) = (None, None);
        scan(expr.to_token_stream(), &mut |ident| match ident.to_string().as_str() {
            "env" => uses_env = uses_env.or(Some(ident.span())),
            "self" => uses_self = uses_self.or(Some(ident.span())),
            _ => {}
        });
        if let Some(span) = uses_self {
            let message = format!(
                "attribute expressions read the environment as `env`, not `self`: write `env.field` and declare the environment with #[{}(env = MyEnv)]",
                self.ns
            );
            errors.push(syn::Error::new(span, message));
        }
        if let Some(span) = uses_env {
            self.runtime = true;
            if !self.env_declared {
                let message = format!(
                    "this expression reads `env`, so the type must name its environment: add #[{}(env = MyEnv)]",
                    self.ns
                );
                errors.push(syn::Error::new(span, message));
            }
        }
    }

    /// Validates a `range = ..` value.
    fn bound(&mut self, expr: &Expr, errors: &mut Errors) -> Option<Bound> {
        let Expr::Range(range) = strip(expr) else {
            errors.at(expr, "expected a range `lo..hi` (or `lo..=hi`)");
            return None;
        };
        let (Some(lo), Some(hi)) = (&range.start, &range.end) else {
            errors.at(expr, "a range needs both bounds, e.g. `0..8`");
            return None;
        };
        let mut ok = true;
        for side in [lo, hi] {
            if let Expr::Lit(lit) = strip(side)
                && !matches!(lit.lit, syn::Lit::Int(_))
            {
                errors.at(side, "range bounds must be integers");
                ok = false;
            }
            self.check(side, errors);
        }
        let inclusive = matches!(range.limits, RangeLimits::Closed(_));
        if let (Some(l), Some(h)) = (int_literal(lo), int_literal(hi)) {
            let size = h - l + i128::from(inclusive);
            if size == 0 {
                errors.at(expr, "empty range: it must hold at least one value");
                ok = false;
            } else if size < 0 {
                errors.at(expr, "reversed range: write the lower bound first");
                ok = false;
            }
        }
        ok.then(|| Bound { lo: (**lo).clone(), hi: (**hi).clone(), inclusive })
    }
}

fn scan(tokens: TokenStream, f: &mut impl FnMut(&proc_macro2::Ident)) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => f(&ident),
            TokenTree::Group(group) => scan(group.stream(), f),
            _ => {}
        }
    }
}

fn strip(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        other => other,
    }
}

/// The value of an integer literal, possibly negated.
fn int_literal(expr: &Expr) -> Option<i128> {
    match strip(expr) {
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(int), .. }) => int.base10_parse().ok(),
        Expr::Unary(syn::ExprUnary { op: syn::UnOp::Neg(_), expr, .. }) => int_literal(expr).map(|v| -v),
        _ => None,
    }
}

/// Validates a `#[derive(State)]` input.
pub(crate) fn state(input: &StateInput<'_>, errors: &mut Errors) -> StatePlan {
    let mut exprs = Exprs { ns: "state", env_declared: input.attrs.env.is_set(), runtime: false };
    let mut fields = Vec::new();
    for field in &input.fields {
        if let Some(enc) = state_field(field, &mut exprs, errors) {
            fields.push((field.member.clone(), enc));
        }
    }
    StatePlan { fields }
}

fn state_field(field: &StateField<'_>, exprs: &mut Exprs, errors: &mut Errors) -> Option<Enc> {
    let a = &field.attrs;
    if let Some(skip) = a.skip.key() {
        let others = [a.range.key(), a.scalar.key(), a.bits.key(), a.len.key()];
        if others.iter().any(Option::is_some) {
            errors.at(skip, "`skip` leaves the field out of the encoding; remove the other attributes");
        }
        return None;
    }
    if let (Some(bits), true) = (a.bits.key(), a.range.is_set()) {
        errors.at(bits, "`bits` and `range` conflict: a field is either a bit set or a bounded integer");
    }
    if let (Some(scalar), false) = (a.scalar.key(), a.range.is_set()) {
        errors.at(scalar, "`scalar` needs `range = lo..hi` to scale the value into [0, 1]");
    }
    let mut len_used = false;
    let enc = lower(field.ty, field, exprs, errors, &mut len_used);
    if let (Some(len), false) = (a.len.key(), len_used) {
        errors.at(len, "`len` applies to `Vec` fields (the encoded length)");
    }
    enc
}

fn lower(
    ty: &Type,
    field: &StateField<'_>,
    exprs: &mut Exprs,
    errors: &mut Errors,
    len_used: &mut bool,
) -> Option<Enc> {
    let a = &field.attrs;
    let leaf = a.range.is_set() || a.bits.is_set();
    match shape(ty) {
        Shape::Array(elem, len) => {
            let elem = lower(elem, field, exprs, errors, len_used)?;
            Some(Enc::Array(len.clone(), Box::new(elem)))
        }
        Shape::Vec(elem) => {
            let Some(len) = a.len.get() else {
                errors.at(ty, "a `Vec` field needs its encoded length: add #[state(len = N)] (shorter vectors leave the trailing slots zero)");
                return None;
            };
            if *len_used {
                errors.at(ty, "nested `Vec`s are not supported; use a `Vec` of a type with #[derive(State)]");
                return None;
            }
            *len_used = true;
            exprs.check(len, errors);
            let elem = lower(elem, field, exprs, errors, len_used)?;
            Some(Enc::Vec(len.clone(), Box::new(elem)))
        }
        Shape::Int => {
            if let Some(bits) = a.bits.get() {
                exprs.check(bits, errors);
                return Some(Enc::Bits(bits.clone()));
            }
            let Some(range) = a.range.get() else {
                errors.at(ty, "unbounded integer field: add #[state(range = lo..hi)] (one-hot), #[state(range = lo..hi, scalar)] (one slot) or #[state(bits = n)] (a bit set)");
                return None;
            };
            let bound = exprs.bound(range, errors)?;
            Some(if a.scalar.is_set() { Enc::Scalar(bound) } else { Enc::OneHot(bound) })
        }
        Shape::Bool | Shape::Float | Shape::Other if leaf => {
            let key = a.range.key().or(a.bits.key());
            errors.at(key, "`range` and `bits` apply to integer fields (or arrays and `Vec`s of integers)");
            None
        }
        _ => Some(Enc::Nested(ty.clone())),
    }
}

/// Validates a `#[derive(Action)]` input.
pub(crate) fn action<'a>(input: &ActionInput<'a>, errors: &mut Errors) -> ActionPlan<'a> {
    let mut exprs = Exprs { ns: "action", env_declared: input.attrs.env.is_set(), runtime: false };
    let mut exits: Vec<usize> = Vec::new();
    let mut variants = Vec::new();
    for (i, variant) in input.variants.iter().enumerate() {
        if let Some(key) = variant.attrs.exit.key() {
            if let Some(&first) = exits.first() {
                let first: &syn::Ident = input.variants[first].ident;
                errors.at(key, format_args!("a second exit variant: `{first}` is already #[action(exit)]; exactly one variant ends trajectories"));
            } else if !variant.payload.is_empty() {
                errors.at(variant.fields, "the exit variant carries no payload");
            }
            exits.push(i);
        }
        let mut fields = Vec::new();
        for field in &variant.payload {
            let payload = match (shape(field.ty), field.attrs.range.get()) {
                (Shape::Bool, None) => Some(Payload::Bool),
                (Shape::Bool, Some(range)) => {
                    errors.at(range, "a `bool` payload always takes two values; remove `range`");
                    None
                }
                (Shape::Int, Some(range)) => exprs.bound(range, errors).map(|b| Payload::Range(Box::new(b))),
                (Shape::Int, None) => {
                    errors.at(field.ty, "unbounded payload field: add #[action(range = lo..hi)] (the bounds may read the environment, e.g. `0..env.size`)");
                    None
                }
                _ => {
                    errors.at(field.ty, "payload fields must be integers with #[action(range = lo..hi)] or `bool`");
                    None
                }
            };
            if let Some(payload) = payload {
                fields.push((field.member.clone(), field.ty, payload));
            }
        }
        variants.push(fields);
    }
    if exits.is_empty() && !input.variants.is_empty() {
        errors.push(syn::Error::new(input.span(), missing_exit(input)));
    } else if input.variants.is_empty() && matches!(input.input.data, syn::Data::Enum(_)) {
        errors.push(syn::Error::new(input.span(), "an action enum needs at least the exit variant"));
    }
    ActionPlan { variants, exit: exits.first().copied().unwrap_or(0), runtime: exprs.runtime }
}

fn missing_exit(input: &ActionInput<'_>) -> String {
    let names: Vec<String> = input.variants.iter().map(|v| v.ident.to_string()).collect();
    let likely = names.iter().find(|n| matches!(n.as_str(), "Exit" | "Stop" | "Done" | "End" | "Terminate" | "Finish"));
    let hint = likely.map(|n| format!("; did you mean to mark `{n}`?")).unwrap_or_default();
    format!("no exit variant: mark the unit variant that ends a trajectory with #[action(exit)]{hint}")
}

/// The methods an environment block defines: name, arguments after `&self`, signature, role.
const METHODS: [(&str, usize, &str, &str); 6] = [
    ("source", 0, "fn source(&self) -> S", "the source state"),
    ("allowed", 2, "fn allowed(&self, state: &S, action: A) -> bool", "the forward mask, exit action included"),
    ("apply", 2, "fn apply(&self, state: &mut S, action: A)", "a forward step"),
    ("can_revert", 2, "fn can_revert(&self, state: &S, action: A) -> bool", "the backward mask"),
    ("revert", 2, "fn revert(&self, state: &mut S, action: A)", "the inverse of `apply`, for backward steps"),
    ("log_reward", 1, "fn log_reward(&self, state: &S) -> f64", "the log-reward of a terminal state"),
];

/// Validates an `#[environment(..)]` block.
pub(crate) fn environment(input: &EnvInput<'_>, errors: &mut Errors) -> Option<EnvPlan> {
    let item = input.item;
    if let Some((_, path, _)) = &item.trait_ {
        errors.at(path, "#[environment] goes on an inherent impl block `impl MyEnv { .. }`, not on a trait impl");
        return None;
    }
    for (key, what) in
        [(input.args.state.is_set(), "state = MyState"), (input.args.action.is_set(), "action = MyAction")]
    {
        if !key {
            errors.push(syn::Error::new(Span::call_site(), format!("missing `{what}` in #[environment(..)]")));
        }
    }
    let others: Vec<String> = input.methods.iter().map(|m| m.sig.ident.to_string()).collect();
    for (name, arity, signature, role) in METHODS {
        let Some(method) = input.method(name) else {
            let candidates: Vec<&str> = others.iter().map(String::as_str).collect();
            let hint =
                closest(name, &candidates).map(|c| format!("; did you mean to rename `{c}`?")).unwrap_or_default();
            errors.at(&item.self_ty, format_args!("missing `{signature}`: {role}{hint}"));
            continue;
        };
        check_signature(method, name, arity, signature, errors);
    }
    let signature = input.method("signature");
    if let Some(method) = signature {
        check_signature(method, "signature", 0, "fn signature(&self) -> String", errors);
    }
    let name = match input.args.name.get() {
        Some(lit) => lit.value(),
        None => snake_case(&type_name(&item.self_ty)),
    };
    Some(EnvPlan {
        state: input.args.state.get()?.clone(),
        action: input.args.action.get()?.clone(),
        name,
        enumerable: input.args.enumerable.is_set(),
        signature: signature.is_some(),
    })
}

fn check_signature(method: &syn::ImplItemFn, name: &str, arity: usize, signature: &str, errors: &mut Errors) {
    let sig = &method.sig;
    let by_ref = matches!(sig.receiver(), Some(r) if r.reference.is_some() && r.mutability.is_none());
    if !by_ref || sig.inputs.len() != arity + 1 {
        errors.at(sig, format_args!("`{name}` must have the signature `{signature}`"));
    }
}

fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
        other => other.to_token_stream().to_string(),
    }
}

/// `BitSequence` -> `bit_sequence`.
pub(crate) fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::{DeriveInput, parse_quote};

    fn action_errors(input: DeriveInput) -> Vec<String> {
        let mut errors = Errors::default();
        let ast = ActionInput::from_syn(&input, &mut errors);
        action(&ast, &mut errors);
        errors.finish().err().map(|e| e.into_iter().map(|e| e.to_string()).collect()).unwrap_or_default()
    }

    fn state_errors(input: DeriveInput) -> Vec<String> {
        let mut errors = Errors::default();
        let ast = StateInput::from_syn(&input, &mut errors);
        state(&ast, &mut errors);
        errors.finish().err().map(|e| e.into_iter().map(|e| e.to_string()).collect()).unwrap_or_default()
    }

    #[test]
    fn a_valid_action_lowers() {
        let input: DeriveInput = parse_quote! {
            #[action(env = Grid)]
            enum A { Add { #[action(range = 0..env.n)] item: usize }, Flip(bool), #[action(exit)] Stop }
        };
        let mut errors = Errors::default();
        let ast = ActionInput::from_syn(&input, &mut errors);
        let plan = action(&ast, &mut errors);
        assert!(errors.finish().is_ok());
        assert_eq!((plan.exit, plan.runtime, plan.variants.len()), (2, true, 3));
        assert!(matches!(plan.variants[1][0].2, Payload::Bool));
    }

    #[test]
    fn ranges_are_checked() {
        let errors = action_errors(parse_quote! {
            enum A {
                B { #[action(range = 3..3)] x: u8 },
                C { #[action(range = 8..=2)] x: u8 },
                D { #[action(range = 0.0..1.0)] x: u8 },
                E { #[action(range = 4)] x: u8 },
                F { #[action(range = 0..)] x: u8 },
                #[action(exit)] G,
            }
        });
        assert_eq!(errors.len(), 6, "{errors:?}");
        assert!(errors[0].starts_with("empty range"));
        assert!(errors[1].starts_with("reversed range"));
        assert!(errors[2].contains("must be integers"));
        assert!(errors[4].starts_with("expected a range"));
        assert!(errors[5].contains("both bounds"));
    }

    #[test]
    fn exit_rules() {
        let none = action_errors(parse_quote! { enum A { Go, Stop } });
        assert!(none[0].contains("did you mean to mark `Stop`"), "{none:?}");
        let two = action_errors(parse_quote! { enum A { #[action(exit)] Go, #[action(exit)] Stop } });
        assert!(two[0].contains("a second exit variant: `Go`"), "{two:?}");
        let payload = action_errors(parse_quote! { enum A { #[action(exit)] Go(bool) } });
        assert!(payload[0].contains("no payload"), "{payload:?}");
    }

    #[test]
    fn environment_reads_need_a_declared_env() {
        let errors = action_errors(parse_quote! {
            enum A { B { #[action(range = 0..env.n)] x: u8, #[action(range = 0..self.n)] y: u8 }, #[action(exit)] C }
        });
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("add #[action(env = MyEnv)]"));
        assert!(errors[1].contains("not `self`"));
    }

    #[test]
    fn state_fields_are_checked() {
        let errors = state_errors(parse_quote! {
            struct S {
                a: u8,
                b: Vec<bool>,
                #[state(scalar)] c: u8,
                #[state(range = 0..2)] d: bool,
                #[state(skip, range = 0..2)] e: u8,
                #[state(len = 3)] f: u8,
                #[state(bits = 8, range = 0..4)] g: u8,
            }
        });
        assert_eq!(errors.len(), 9, "{errors:?}");
        assert!(errors[0].starts_with("unbounded integer field"));
        assert!(errors[1].contains("needs its encoded length"));
        assert!(errors[2].contains("`scalar` needs `range"));
    }

    #[test]
    fn a_valid_state_lowers() {
        let input: DeriveInput = parse_quote! {
            #[state(env = E)]
            struct S { #[state(len = env.n, range = 0..4)] a: Vec<u8>, b: [bool; 3], #[state(bits = 16)] c: u32, #[state(skip)] d: u8, e: Inner }
        };
        let mut errors = Errors::default();
        let ast = StateInput::from_syn(&input, &mut errors);
        let plan = state(&ast, &mut errors);
        assert!(errors.finish().is_ok());
        assert_eq!(plan.fields.len(), 4);
        assert!(matches!(&plan.fields[0].1, Enc::Vec(_, inner) if matches!(**inner, Enc::OneHot(_))));
        assert!(matches!(&plan.fields[3].1, Enc::Nested(_)));
    }

    #[test]
    fn names_are_snake_case() {
        assert_eq!(snake_case("BitSequence"), "bit_sequence");
        assert_eq!(snake_case("Hypergrid"), "hypergrid");
    }
}
