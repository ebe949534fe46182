//! The intermediate representation: the user's items with their parsed attributes.
//!
//! Borrowed from the `syn` tree (thiserror's `Input<'a>` idea) so that every later error can point
//! at the user's tokens.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{DeriveInput, Expr, Fields, Ident, ImplItem, ImplItemFn, ItemImpl, Member, Type};

use crate::attr::{ActionFieldAttrs, ContainerAttrs, EnvArgs, Errors, StateFieldAttrs, VariantAttrs};

/// A struct with `#[derive(State)]`.
pub(crate) struct StateInput<'a> {
    pub(crate) attrs: ContainerAttrs,
    pub(crate) fields: Vec<StateField<'a>>,
}

/// One field of a state struct.
pub(crate) struct StateField<'a> {
    pub(crate) member: Member,
    pub(crate) ty: &'a Type,
    pub(crate) attrs: StateFieldAttrs,
}

/// An enum with `#[derive(Action)]`.
pub(crate) struct ActionInput<'a> {
    pub(crate) input: &'a DeriveInput,
    pub(crate) attrs: ContainerAttrs,
    pub(crate) variants: Vec<Variant<'a>>,
}

/// One variant of an action enum.
pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) fields: &'a Fields,
    pub(crate) attrs: VariantAttrs,
    pub(crate) payload: Vec<ActionField<'a>>,
}

/// One payload field of an action variant.
pub(crate) struct ActionField<'a> {
    pub(crate) member: Member,
    pub(crate) ty: &'a Type,
    pub(crate) attrs: ActionFieldAttrs,
}

/// An `impl` block with `#[environment(..)]`.
pub(crate) struct EnvInput<'a> {
    pub(crate) args: EnvArgs,
    pub(crate) item: &'a ItemImpl,
    pub(crate) methods: Vec<&'a ImplItemFn>,
}

/// The syntactic shape of a field type, as far as encoding and indexing care.
pub(crate) enum Shape<'a> {
    Bool,
    Int,
    Float,
    Array(&'a Type, &'a Expr),
    Vec(&'a Type),
    Other,
}

impl<'a> StateInput<'a> {
    pub(crate) fn from_syn(input: &'a DeriveInput, errors: &mut Errors) -> Self {
        let attrs = ContainerAttrs::parse(&input.attrs, "state", errors);
        let fields = match &input.data {
            syn::Data::Struct(data) => members(&data.fields)
                .map(|(member, field)| StateField {
                    member,
                    ty: &field.ty,
                    attrs: StateFieldAttrs::parse(&field.attrs, errors),
                })
                .collect(),
            syn::Data::Enum(data) => {
                errors.at(data.enum_token, "#[derive(State)] supports only structs; wrap the alternatives in a struct with one field per part of the state");
                Vec::new()
            }
            syn::Data::Union(data) => {
                errors.at(data.union_token, "#[derive(State)] supports only structs");
                Vec::new()
            }
        };
        StateInput { attrs, fields }
    }
}

impl<'a> ActionInput<'a> {
    pub(crate) fn from_syn(input: &'a DeriveInput, errors: &mut Errors) -> Self {
        let attrs = ContainerAttrs::parse(&input.attrs, "action", errors);
        let variants = match &input.data {
            syn::Data::Enum(data) => data
                .variants
                .iter()
                .map(|v| Variant {
                    ident: &v.ident,
                    fields: &v.fields,
                    attrs: VariantAttrs::parse(&v.attrs, errors),
                    payload: members(&v.fields)
                        .map(|(member, field)| ActionField {
                            member,
                            ty: &field.ty,
                            attrs: ActionFieldAttrs::parse(&field.attrs, errors),
                        })
                        .collect(),
                })
                .collect(),
            syn::Data::Struct(data) => {
                errors.at(data.struct_token, "#[derive(Action)] supports only enums: one variant per kind of action, with `#[action(exit)]` on the exit variant");
                Vec::new()
            }
            syn::Data::Union(data) => {
                errors.at(data.union_token, "#[derive(Action)] supports only enums");
                Vec::new()
            }
        };
        ActionInput { input, attrs, variants }
    }

    /// The span of the enum's name, for errors about the whole enum.
    pub(crate) fn span(&self) -> Span {
        self.input.ident.span()
    }
}

impl<'a> EnvInput<'a> {
    pub(crate) fn from_syn(args: EnvArgs, item: &'a ItemImpl) -> Self {
        let methods = item
            .items
            .iter()
            .filter_map(|i| match i {
                ImplItem::Fn(f) => Some(f),
                _ => None,
            })
            .collect();
        EnvInput { args, item, methods }
    }

    /// The method called `name`, if the block defines it.
    pub(crate) fn method(&self, name: &str) -> Option<&'a ImplItemFn> {
        self.methods.iter().copied().find(|m| m.sig.ident == name)
    }
}

fn members(fields: &Fields) -> impl Iterator<Item = (Member, &syn::Field)> {
    fields.iter().enumerate().map(|(i, field)| {
        let member = match &field.ident {
            Some(ident) => Member::Named(ident.clone()),
            None => Member::Unnamed(syn::Index { index: i as u32, span: field.span() }),
        };
        (member, field)
    })
}

/// Classifies a type by its syntax: primitive names, `[T; N]` and `Vec<T>`.
pub(crate) fn shape(ty: &Type) -> Shape<'_> {
    match ty {
        Type::Array(array) => Shape::Array(&array.elem, &array.len),
        Type::Group(group) => shape(&group.elem),
        Type::Paren(paren) => shape(&paren.elem),
        Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return Shape::Other;
            };
            let name = last.ident.to_string();
            match (name.as_str(), &last.arguments) {
                ("bool", syn::PathArguments::None) => Shape::Bool,
                ("f32" | "f64", syn::PathArguments::None) => Shape::Float,
                (n, syn::PathArguments::None) if is_int(n) => Shape::Int,
                ("Vec", syn::PathArguments::AngleBracketed(args)) if args.args.len() == 1 => match &args.args[0] {
                    syn::GenericArgument::Type(elem) => Shape::Vec(elem),
                    _ => Shape::Other,
                },
                _ => Shape::Other,
            }
        }
        _ => Shape::Other,
    }
}

fn is_int(name: &str) -> bool {
    matches!(name, "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128" | "isize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn shapes() {
        let ty: Type = parse_quote!(u8);
        assert!(matches!(shape(&ty), Shape::Int));
        let ty: Type = parse_quote!(std::vec::Vec<bool>);
        assert!(matches!(shape(&ty), Shape::Vec(_)));
        let ty: Type = parse_quote!([u8; 4]);
        assert!(matches!(shape(&ty), Shape::Array(..)));
        let ty: Type = parse_quote!(Option<u8>);
        assert!(matches!(shape(&ty), Shape::Other));
    }
}
