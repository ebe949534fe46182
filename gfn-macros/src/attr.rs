//! Attribute parsing: `#[state(..)]`, `#[action(..)]` and the arguments of `#[environment(..)]`.
//!
//! Parsing never stops at the first problem: every error goes into an [`Errors`] accumulator and
//! the caller reports them all together (serde's `Ctxt` idea). Values are only parsed here;
//! whether they make sense (a range is not empty, a bound is an integer) is `valid.rs`'s job.

use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Expr, LitStr, Path, Token, Type};

/// Collects errors so that the user sees all of them in one build.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Adds an error.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Adds an error spanning `tokens`.
    pub(crate) fn at(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// `Err` with every collected error, or `Ok`.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// One attribute key's value, remembering where it was written and rejecting duplicates.
pub(crate) struct Attr<T> {
    name: &'static str,
    value: Option<(Path, T)>,
}

impl<T> Attr<T> {
    pub(crate) fn none(name: &'static str) -> Self {
        Attr { name, value: None }
    }

    /// Records `value` for the key written at `path`, or reports a duplicate there.
    pub(crate) fn set(&mut self, errors: &mut Errors, path: &Path, value: T) {
        if self.value.is_some() {
            errors.at(path, format_args!("duplicate attribute `{}`", self.name));
        } else {
            self.value = Some((path.clone(), value));
        }
    }

    /// The value, if the key was given.
    pub(crate) fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(_, v)| v)
    }

    /// The key as written, for error spans.
    pub(crate) fn key(&self) -> Option<&Path> {
        self.value.as_ref().map(|(p, _)| p)
    }

    /// Whether the key was given.
    pub(crate) fn is_set(&self) -> bool {
        self.value.is_some()
    }
}

/// `env = Type` and `crate = "path"`, accepted on the container of both derives.
pub(crate) struct ContainerAttrs {
    pub(crate) env: Attr<Type>,
    pub(crate) krate: Attr<Path>,
}

/// `#[action(exit)]` on a variant.
pub(crate) struct VariantAttrs {
    pub(crate) exit: Attr<()>,
}

/// `#[action(range = lo..hi)]` on a payload field.
pub(crate) struct ActionFieldAttrs {
    pub(crate) range: Attr<Expr>,
}

/// `#[state(range = lo..hi, scalar, bits = n, len = n, skip)]` on a state field.
pub(crate) struct StateFieldAttrs {
    pub(crate) range: Attr<Expr>,
    pub(crate) scalar: Attr<()>,
    pub(crate) bits: Attr<Expr>,
    pub(crate) len: Attr<Expr>,
    pub(crate) skip: Attr<()>,
}

/// The arguments of `#[environment(state = S, action = A, name = "..", enumerable, crate = "..")]`.
pub(crate) struct EnvArgs {
    pub(crate) state: Attr<Type>,
    pub(crate) action: Attr<Type>,
    pub(crate) name: Attr<LitStr>,
    pub(crate) enumerable: Attr<()>,
    pub(crate) krate: Attr<Path>,
}

impl ContainerAttrs {
    pub(crate) fn parse(attrs: &[Attribute], ns: &'static str, errors: &mut Errors) -> Self {
        let mut out = ContainerAttrs { env: Attr::none("env"), krate: Attr::none("crate") };
        parse_namespace(attrs, ns, "on the type", &["env", "crate"], errors, |key, meta, errors| {
            match key {
                "env" => out.env.set(errors, &meta.path, meta.value()?.parse()?),
                _ => out.krate.set(errors, &meta.path, parse_crate_path(meta)?),
            }
            Ok(())
        });
        out
    }
}

impl VariantAttrs {
    pub(crate) fn parse(attrs: &[Attribute], errors: &mut Errors) -> Self {
        let mut out = VariantAttrs { exit: Attr::none("exit") };
        parse_namespace(attrs, "action", "on a variant", &["exit"], errors, |_, meta, errors| {
            flag(meta)?;
            out.exit.set(errors, &meta.path, ());
            Ok(())
        });
        out
    }
}

impl ActionFieldAttrs {
    pub(crate) fn parse(attrs: &[Attribute], errors: &mut Errors) -> Self {
        let mut out = ActionFieldAttrs { range: Attr::none("range") };
        parse_namespace(attrs, "action", "on a field", &["range"], errors, |_, meta, errors| {
            out.range.set(errors, &meta.path, meta.value()?.parse()?);
            Ok(())
        });
        out
    }
}

impl StateFieldAttrs {
    pub(crate) fn parse(attrs: &[Attribute], errors: &mut Errors) -> Self {
        let mut out = StateFieldAttrs {
            range: Attr::none("range"),
            scalar: Attr::none("scalar"),
            bits: Attr::none("bits"),
            len: Attr::none("len"),
            skip: Attr::none("skip"),
        };
        let keys = ["range", "scalar", "bits", "len", "skip"];
        parse_namespace(attrs, "state", "on a field", &keys, errors, |key, meta, errors| {
            let path = &meta.path;
            match key {
                "range" => out.range.set(errors, path, meta.value()?.parse()?),
                "bits" => out.bits.set(errors, path, meta.value()?.parse()?),
                "len" => out.len.set(errors, path, meta.value()?.parse()?),
                "scalar" => out.scalar.set(errors, path, flag(meta)?),
                _ => out.skip.set(errors, path, flag(meta)?),
            }
            Ok(())
        });
        out
    }
}

impl EnvArgs {
    /// Parses the comma-separated arguments of the attribute macro.
    pub(crate) fn parse(args: proc_macro2::TokenStream, errors: &mut Errors) -> Self {
        let mut out = EnvArgs {
            state: Attr::none("state"),
            action: Attr::none("action"),
            name: Attr::none("name"),
            enumerable: Attr::none("enumerable"),
            krate: Attr::none("crate"),
        };
        let keys = ["state", "action", "name", "enumerable", "crate"];
        let parser = syn::meta::parser(|meta| {
            let key = key_of(&meta)?;
            if !keys.contains(&key.as_str()) {
                errors.push(unknown(&meta, &key, "environment", "", &keys));
                return skip_value(&meta);
            }
            let path = &meta.path;
            match key.as_str() {
                "state" => out.state.set(errors, path, meta.value()?.parse()?),
                "action" => out.action.set(errors, path, meta.value()?.parse()?),
                "name" => out.name.set(errors, path, meta.value()?.parse()?),
                "enumerable" => out.enumerable.set(errors, path, flag(&meta)?),
                _ => out.krate.set(errors, path, parse_crate_path(&meta)?),
            }
            Ok(())
        });
        if let Err(error) = syn::parse::Parser::parse2(parser, args) {
            errors.push(error);
        }
        out
    }
}

/// Runs `on_key` for every `key` or `key = value` inside `#[ns(..)]` attributes, reporting
/// unknown keys (with a suggestion) without stopping.
fn parse_namespace(
    attrs: &[Attribute],
    ns: &'static str,
    place: &str,
    keys: &[&str],
    errors: &mut Errors,
    mut on_key: impl FnMut(&str, &ParseNestedMeta<'_>, &mut Errors) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|a| a.path().is_ident(ns)) {
        let mut local = Errors::default();
        let result = attr.parse_nested_meta(|meta| {
            let key = key_of(&meta)?;
            if keys.contains(&key.as_str()) {
                on_key(&key, &meta, &mut local)
            } else {
                local.push(unknown(&meta, &key, ns, place, keys));
                skip_value(&meta)
            }
        });
        if let Err(error) = result {
            local.push(error);
        }
        if let Err(error) = local.finish() {
            errors.push(error);
        }
    }
}

fn key_of(meta: &ParseNestedMeta<'_>) -> syn::Result<String> {
    match meta.path.get_ident() {
        Some(ident) => Ok(ident.to_string()),
        None => Err(meta.error("expected an attribute name")),
    }
}

fn unknown(meta: &ParseNestedMeta<'_>, key: &str, ns: &str, place: &str, keys: &[&str]) -> syn::Error {
    let expected = keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
    let place = if place.is_empty() { String::new() } else { format!(" {place}") };
    let hint = match closest(key, keys) {
        Some(best) => format!("; did you mean `{best}`?"),
        None => String::new(),
    };
    syn::Error::new_spanned(
        &meta.path,
        format!("unknown {ns} attribute `{key}`{place}{hint} (expected one of {expected})"),
    )
}

/// Consumes the value of an unknown key so that parsing can go on with the next key.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip_value(&inner))?;
    }
    Ok(())
}

/// A key that takes no value.
fn flag(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
        return Err(meta.error("this attribute takes no value"));
    }
    Ok(())
}

fn parse_crate_path(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    let lit: LitStr = meta.value()?.parse()?;
    lit.parse()
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(closest("rnage", &["range", "skip"]), Some("range"));
        assert_eq!(closest("exti", &["exit"]), Some("exit"));
        assert_eq!(closest("colour", &["range", "skip"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn state_field_attributes_parse_together() {
        let field: syn::Field = parse_quote! { #[state(range = 0..8, scalar)] #[state(len = env.n)] x: Vec<u8> };
        let mut errors = Errors::default();
        let attrs = StateFieldAttrs::parse(&field.attrs, &mut errors);
        assert!(errors.finish().is_ok());
        assert!(attrs.range.is_set() && attrs.scalar.is_set() && attrs.len.is_set());
        assert!(!attrs.skip.is_set() && !attrs.bits.is_set());
    }

    #[test]
    fn all_errors_are_collected() {
        let variant: syn::Variant = parse_quote! { #[action(exit, exti, exit)] #[action(range = 3)] Stop };
        let mut errors = Errors::default();
        let attrs = VariantAttrs::parse(&variant.attrs, &mut errors);
        assert!(attrs.exit.is_set());
        let messages: Vec<String> = errors.finish().unwrap_err().into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].contains("did you mean `exit`"));
        assert!(messages[1].contains("duplicate attribute `exit`"));
        assert!(messages[2].contains("unknown action attribute `range` on a variant"));
    }

    #[test]
    fn environment_arguments() {
        let mut errors = Errors::default();
        let args = EnvArgs::parse(quote::quote! { state = S, action = A, enumerable, nmae = "x" }, &mut errors);
        assert!(args.state.is_set() && args.action.is_set() && args.enumerable.is_set());
        let message = errors.finish().unwrap_err().to_string();
        assert!(message.contains("did you mean `name`"), "{message}");
    }
}
