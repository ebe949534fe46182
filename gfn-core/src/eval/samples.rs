//! Target samples from data: terminal objects read from a JSON-lines file (the format `gfn sample`
//! writes), drawn uniformly with replacement, e.g. for forward KL on data (ALGORITHMS §2.2 (a)).

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::path::Path;

use rand::Rng as _;

use super::TargetSampler;
use crate::env::{Environment, EnvironmentExt};
use crate::{Error, Result};

/// A non-empty set of terminal objects; as a [`TargetSampler`] it draws from their empirical
/// distribution.
#[derive(Debug, Clone)]
pub struct TargetSamples<S> {
    objects: Vec<S>,
}

impl<S: Clone + Debug + Eq + Hash> TargetSamples<S> {
    /// Reads `path`: one JSON object per line (blank lines are skipped) with `"actions"`, the
    /// action path from the source (as `gfn sample` writes it), and/or `"object"`, the object's
    /// `Debug` rendering, resolved among `known` terminal objects (e.g. the enumerated ones). Every
    /// object must be terminal (allowed to exit) with a finite log-reward, and when both fields are
    /// given they must name the same object; any violation is [`Error::Parse`] naming the line.
    pub fn read<'a, E>(env: &E, path: &Path, known: impl IntoIterator<Item = &'a S>) -> Result<Self>
    where
        E: Environment<State = S>,
        S: 'a,
    {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(env, &path.display().to_string(), &text, known)
    }

    /// Like [`TargetSamples::read`], from the text of a file called `source_name`.
    pub fn parse<'a, E>(env: &E, source_name: &str, text: &str, known: impl IntoIterator<Item = &'a S>) -> Result<Self>
    where
        E: Environment<State = S>,
        S: 'a,
    {
        let known: HashMap<String, &S> = known.into_iter().map(|s| (format!("{s:?}"), s)).collect();
        let mut objects = Vec::new();
        for (k, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let object = parse_line(env, line, &known).map_err(|reason| Error::Parse {
                source_name: source_name.to_string(),
                reason: format!("line {}: {reason}", k + 1),
            })?;
            objects.push(object);
        }
        if objects.is_empty() {
            return Err(Error::Parse { source_name: source_name.to_string(), reason: "no target samples".into() });
        }
        Ok(TargetSamples { objects })
    }

    /// The objects, in file order.
    pub fn objects(&self) -> &[S] {
        &self.objects
    }
}

/// The terminal object of one line, or why there is none.
fn parse_line<E: Environment>(env: &E, line: &str, known: &HashMap<String, &E::State>) -> Result<E::State, String>
where
    E::State: Clone + Debug,
{
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let fields = value.as_object().ok_or_else(|| format!("expected a JSON object, got {value}"))?;
    let named = match fields.get("object") {
        None => None,
        Some(serde_json::Value::String(name)) => Some(name.as_str()),
        Some(other) => return Err(format!("\"object\" must be a string, got {other}")),
    };
    let state = match (fields.get("actions"), named) {
        (Some(actions), _) => {
            let path = actions
                .as_array()
                .and_then(|a| {
                    a.iter().map(|x| x.as_u64().and_then(|v| usize::try_from(v).ok())).collect::<Option<Vec<_>>>()
                })
                .ok_or_else(|| format!("\"actions\" must be an array of action indices, got {actions}"))?;
            let mut state = env.source();
            for (t, &a) in path.iter().enumerate() {
                state = env.child(&state, a).map_err(|e| format!("action {a} at step {t}: {e}"))?;
            }
            if let Some(name) = named
                && format!("{state:?}") != name
            {
                return Err(format!("the actions lead to {state:?}, not to the object {name}"));
            }
            state
        }
        (None, Some(name)) => match known.get(name) {
            Some(s) => (*s).clone(),
            None if known.is_empty() => {
                return Err(format!(
                    "object {name} without \"actions\": objects can only be resolved by name in enumerable environments"
                ));
            }
            None => return Err(format!("unknown object {name}: not a terminal object of {}", env.name())),
        },
        (None, None) => return Err("expected an \"actions\" array or an \"object\" name".into()),
    };
    if !env.can_exit(&state) {
        return Err(format!("{state:?} is not a terminal object (it cannot exit)"));
    }
    env.checked_log_reward(&state).map_err(|e| e.to_string())?;
    Ok(state)
}

impl<S: Clone + Send + Sync + Debug> TargetSampler<S> for TargetSamples<S> {
    /// Uniform draws with replacement.
    fn sample_targets(&self, n: usize, rng: &mut crate::rng::Rng) -> Vec<S> {
        (0..n).map(|_| self.objects[rng.random_range(0..self.objects.len())].clone()).collect()
    }
}
