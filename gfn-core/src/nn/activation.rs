//! Elementwise activation functions.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A hidden-layer nonlinearity. Names (serde, [`FromStr`], [`Display`](fmt::Display)) are
/// `relu`, `leaky_relu`, `elu`, `silu`, `tanh`.
///
/// ```
/// use gfn_core::nn::Activation;
/// let act: Activation = "leaky_relu".parse()?;
/// assert_eq!(act, Activation::LeakyRelu);
/// assert_eq!(act.to_string(), "leaky_relu");
/// assert_eq!(act.apply(-2.0), -0.02);
/// assert!("gelu".parse::<Activation>().is_err());
/// # Ok::<(), gfn_core::nn::ParseActivationError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(x, 0)`.
    #[default]
    Relu,
    /// `x` if `x ≥ 0`, else `0.01·x`.
    LeakyRelu,
    /// `x` if `x ≥ 0`, else `exp(x) − 1` (α = 1).
    Elu,
    /// `x·σ(x)` (a.k.a. swish).
    Silu,
    /// `tanh(x)`.
    Tanh,
}

/// Negative-side slope of [`Activation::LeakyRelu`].
pub const LEAKY_RELU_SLOPE: f32 = 0.01;

impl Activation {
    /// Every activation, in declaration order.
    pub const ALL: [Activation; 5] =
        [Activation::Relu, Activation::LeakyRelu, Activation::Elu, Activation::Silu, Activation::Tanh];

    /// The name used by serde, [`FromStr`] and [`Display`](fmt::Display).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Elu => "elu",
            Activation::Silu => "silu",
            Activation::Tanh => "tanh",
        }
    }

    /// `act(x)`. NaN propagates.
    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Relu => {
                if x < 0.0 {
                    0.0
                } else {
                    x
                }
            }
            Activation::LeakyRelu => {
                if x < 0.0 {
                    LEAKY_RELU_SLOPE * x
                } else {
                    x
                }
            }
            Activation::Elu => {
                if x < 0.0 {
                    x.exp_m1()
                } else {
                    x
                }
            }
            Activation::Silu => x * sigmoid(x),
            Activation::Tanh => x.tanh(),
        }
    }

    /// Whether [`Activation::derivative`] needs the input `x`. For every activation but SiLU the
    /// output has the sign of the input, so `derivative(y, y) == derivative(x, y)`: a cache that
    /// drops the pre-activations passes the output as both.
    pub fn derivative_needs_input(self) -> bool {
        matches!(self, Activation::Silu)
    }

    /// `act'(x)`, given `y = act(x)` (used where it is cheaper). At the kink of ReLU the
    /// derivative is taken as 0, of leaky ReLU and ELU as 1 (PyTorch's conventions).
    #[inline]
    pub fn derivative(self, x: f32, y: f32) -> f32 {
        match self {
            Activation::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu => {
                if x < 0.0 {
                    LEAKY_RELU_SLOPE
                } else {
                    1.0
                }
            }
            Activation::Elu => {
                if x < 0.0 {
                    y + 1.0
                } else {
                    1.0
                }
            }
            Activation::Silu => {
                let s = sigmoid(x);
                s * (1.0 + x * (1.0 - s))
            }
            Activation::Tanh => 1.0 - y * y,
        }
    }
}

/// The logistic function `1 / (1 + e^{−x})` (saturates cleanly at both ends in f32).
#[inline]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown activation name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown activation `{0}`; expected one of relu, leaky_relu, elu, silu, tanh")]
pub struct ParseActivationError(pub String);

impl FromStr for Activation {
    type Err = ParseActivationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Activation::ALL.into_iter().find(|a| a.name() == s).ok_or_else(|| ParseActivationError(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_fromstr_display_and_serde() {
        for act in Activation::ALL {
            assert_eq!(act.to_string().parse::<Activation>().unwrap(), act);
            let json = serde_json::to_string(&act).unwrap();
            assert_eq!(json, format!("\"{act}\""));
            assert_eq!(serde_json::from_str::<Activation>(&json).unwrap(), act);
        }
    }

    #[test]
    fn parse_error_names_the_value_and_the_valid_ones() {
        let msg = "ReLU".parse::<Activation>().unwrap_err().to_string();
        assert!(msg.contains("`ReLU`") && msg.contains("leaky_relu") && msg.contains("tanh"));
    }

    #[test]
    fn derivatives_from_the_output_alone_where_the_input_is_not_needed() {
        for act in Activation::ALL.into_iter().filter(|a| !a.derivative_needs_input()) {
            for &x in &[-3.0f32, -0.7, -0.0, 0.0, 0.2, 2.5] {
                let y = act.apply(x);
                assert_eq!(act.derivative(y, y), act.derivative(x, y), "{act} at {x}");
            }
        }
        assert_ne!(
            Activation::Silu.derivative(-1.0, Activation::Silu.apply(-1.0)),
            Activation::Silu.derivative(Activation::Silu.apply(-1.0), Activation::Silu.apply(-1.0))
        );
    }

    #[test]
    fn derivatives_match_central_differences() {
        for act in Activation::ALL {
            for &x in &[-3.0f32, -0.7, -0.1, 0.2, 0.9, 2.5] {
                let h = 1e-3;
                let fd = (act.apply(x + h) - act.apply(x - h)) / (2.0 * h);
                let d = act.derivative(x, act.apply(x));
                assert!((fd - d).abs() < 1e-2, "{act} at {x}: {fd} vs {d}");
            }
        }
    }

    #[test]
    fn nan_propagates() {
        for act in Activation::ALL {
            assert!(act.apply(f32::NAN).is_nan(), "{act}");
        }
    }
}
