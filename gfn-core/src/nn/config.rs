//! [`MlpConfig`]: the shape of a multi-layer perceptron.

use super::{Activation, Init};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Layer widths, nonlinearity and initialisation of an [`Mlp`](super::Mlp).
///
/// ```
/// use gfn_core::nn::{Activation, Init, MlpConfig};
/// let config = MlpConfig {
///     input: 32,
///     hidden: vec![256, 256],
///     output: 5,
///     activation: Activation::Relu,
///     init: Init::KaimingUniform,
/// };
/// config.validate()?;
/// assert_eq!(config.layer_sizes(), vec![32, 256, 256, 5]);
/// # Ok::<(), gfn_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    /// Input features.
    pub input: usize,
    /// Widths of the hidden layers (may be empty: a single linear layer).
    pub hidden: Vec<usize>,
    /// Outputs.
    pub output: usize,
    /// Nonlinearity after every hidden layer (none after the last layer).
    #[serde(default)]
    pub activation: Activation,
    /// Initialisation scheme.
    #[serde(default)]
    pub init: Init,
}

impl MlpConfig {
    /// Checks that every width is positive ([`Error::InvalidConfig`] otherwise).
    pub fn validate(&self) -> Result<()> {
        if self.input == 0 {
            return Err(Error::config("input", 0, "the input width must be positive"));
        }
        if self.output == 0 {
            return Err(Error::config("output", 0, "the output width must be positive"));
        }
        if let Some(layer) = self.hidden.iter().position(|&w| w == 0) {
            return Err(Error::config(
                "hidden",
                format!("{:?}", self.hidden),
                format!("hidden layer {layer} has width 0; every width must be positive"),
            ));
        }
        Ok(())
    }

    /// `[input, hidden…, output]`.
    pub fn layer_sizes(&self) -> Vec<usize> {
        let mut sizes = Vec::with_capacity(self.hidden.len() + 2);
        sizes.push(self.input);
        sizes.extend_from_slice(&self.hidden);
        sizes.push(self.output);
        sizes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MlpConfig {
        MlpConfig { input: 3, hidden: vec![4, 5], output: 2, activation: Activation::Tanh, init: Init::XavierUniform }
    }

    #[test]
    fn zero_widths_are_rejected_with_the_field_name() {
        let mut c = config();
        c.hidden[1] = 0;
        let msg = c.validate().unwrap_err().to_string();
        assert!(msg.contains("`hidden`") && msg.contains("[4, 0]") && msg.contains("layer 1"), "{msg}");
        let c = MlpConfig { input: 0, ..config() };
        assert!(matches!(c.validate(), Err(Error::InvalidConfig { field: "input", .. })));
        let c = MlpConfig { output: 0, ..config() };
        assert!(matches!(c.validate(), Err(Error::InvalidConfig { field: "output", .. })));
        assert!(config().validate().is_ok());
    }

    #[test]
    fn serde_round_trip_and_defaults() {
        let c = config();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<MlpConfig>(&json).unwrap(), c);
        let c: MlpConfig = serde_json::from_str(r#"{"input":2,"hidden":[],"output":1}"#).unwrap();
        assert_eq!((c.activation, c.init), (Activation::Relu, Init::KaimingUniform));
        assert!(serde_json::from_str::<MlpConfig>(r#"{"input":2,"hiden":[],"output":1}"#).is_err());
    }
}
