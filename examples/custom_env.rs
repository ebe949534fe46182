//! A custom environment in about 40 lines of domain logic: permutations of `n` items, built by
//! placing one unused item per step, with reward `R(x) = exp(-inversions(x) / T)` (a Mallows
//! model around the identity).
//!
//! The example declares the environment with the DSL, checks it with the conformance checker,
//! trains a sampler with trajectory balance and compares its exact terminal distribution (dynamic
//! programming over the enumerated state graph) with the target.
//!
//! Run with `cargo run --release --example custom_env -- [n] [temperature]`.

use gfn::check::{CheckOptions, check_environment};
use gfn::prelude::*;
use gfn::train::RunSummary;
use gfn::{Action, State, environment};

/// Permutations of `n` items with a Mallows reward at temperature `temperature`.
pub(crate) struct Permutations {
    n: usize,
    temperature: f64,
}

/// The items placed so far, in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, State)]
#[state(env = Permutations)]
pub(crate) struct Prefix {
    #[state(len = env.n, range = 0..env.n)]
    items: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Action)]
#[action(env = Permutations)]
pub(crate) enum Place {
    /// Append `item`, which must not be placed yet.
    Item {
        #[action(range = 0..env.n)]
        item: u8,
    },
    /// End a complete permutation.
    #[action(exit)]
    Done,
}

#[environment(state = Prefix, action = Place, name = "permutations", enumerable)]
impl Permutations {
    fn source(&self) -> Prefix {
        Prefix { items: Vec::with_capacity(self.n) }
    }
    fn allowed(&self, s: &Prefix, a: Place) -> bool {
        match a {
            Place::Item { item } => !s.items.contains(&item),
            Place::Done => s.items.len() == self.n,
        }
    }
    fn apply(&self, s: &mut Prefix, a: Place) {
        if let Place::Item { item } = a {
            s.items.push(item);
        }
    }
    fn can_revert(&self, s: &Prefix, a: Place) -> bool {
        matches!(a, Place::Item { item } if s.items.last() == Some(&item))
    }
    fn revert(&self, s: &mut Prefix, _: Place) {
        s.items.pop();
    }
    fn log_reward(&self, s: &Prefix) -> f64 {
        let x = &s.items;
        let inversions = (0..x.len()).flat_map(|i| (i + 1..x.len()).map(move |j| (i, j)));
        -(inversions.filter(|&(i, j)| x[i] > x[j]).count() as f64) / self.temperature
    }
}

/// Trains trajectory balance on `env` and evaluates it exactly.
pub(crate) fn train(env: Permutations, iterations: u64, seed: u64) -> gfn::Result<RunSummary> {
    let exact = ExactEvaluator::new(&env)?;
    let config = TrainConfig { iterations, seed, ..TrainConfig::default() };
    let mut trainer = Trainer::new(env, config)?;
    trainer.fit(Some(&exact), &RunOptions { progress: true, ..RunOptions::default() })
}

/// The environment for `n` items at `temperature`, validated.
pub(crate) fn permutations(n: usize, temperature: f64) -> gfn::Result<Permutations> {
    if !((1..=8).contains(&n) && temperature.is_finite() && temperature > 0.0) {
        return Err(gfn::Error::config("n, temperature", format!("{n}, {temperature}"), "n in 1..=8, temperature > 0"));
    }
    Ok(Permutations { n, temperature })
}

fn main() -> gfn::Result<()> {
    let mut args = std::env::args().skip(1);
    let n = args.next().map_or(Ok(5), |a| a.parse()).map_err(|e| gfn::Error::config("n", e, "an integer"))?;
    let temperature: f64 =
        args.next().map_or(Ok(1.0), |a| a.parse()).map_err(|e| gfn::Error::config("temperature", e, "a number"))?;
    let env = permutations(n, temperature)?;

    let report = check_environment(&env, &CheckOptions::default())?;
    println!("{}: {} actions, {} features", env.name(), env.action_count(), env.feature_dim());
    println!(
        "conformance: ok ({} states, {} terminal, exhaustive: {})",
        report.states, report.terminals, report.exhaustive
    );
    let summary = train(env, 2000, 0)?;
    let eval = summary.eval.unwrap_or_default();
    println!("exact L1 to the target  {:.4}", eval.l1.unwrap_or(f64::NAN));
    println!("log Z learned {:.4}, exact {:.4}", summary.log_z, eval.log_z_exact.unwrap_or(f64::NAN));
    Ok(())
}
