//! The built-in environments as a downstream crate sees them: configs, constructors and the
//! engine traits (the domain methods of the DSL blocks are private and do not get in the way).

use gfn_core::check::{CheckOptions, check_environment};
use gfn_core::env::{Enumerable, Environment};
use gfn_envs::bitseq::{BitSequence, BitSequenceConfig};
use gfn_envs::hypergrid::{Hypergrid, HypergridConfig};
use gfn_envs::sequences::{SequenceConfig, SequenceGeneration};
use gfn_envs::sets::{SetConfig, SetGeneration};

fn exercise<E: Enumerable>(env: &E) {
    let report = check_environment(env, &CheckOptions::default()).unwrap();
    assert!(report.exhaustive && report.terminals > 0);
    let graph = env.state_graph().unwrap();
    assert_eq!(graph.terminals().count(), report.terminals);
}

#[test]
fn every_builtin_environment_conforms() {
    exercise(&Hypergrid::new(HypergridConfig { ndim: 3, height: 4, ..Default::default() }).unwrap());
    exercise(&BitSequence::new(BitSequenceConfig { length: 8, word_size: 4, ..Default::default() }).unwrap());
    exercise(&SetGeneration::new(SetConfig { pool_size: 8, set_size: 3, seed: 1 }).unwrap());
    exercise(&SequenceGeneration::new(SequenceConfig { length: 3, vocab: 5, seed: 1 }).unwrap());
}

#[test]
fn trait_methods_are_reachable_on_concrete_types() {
    let env = Hypergrid::new(HypergridConfig::default()).unwrap();
    let source = env.source();
    assert_eq!(env.log_reward(&source), 0.51f64.ln(), "the origin is in the outer band");
    assert_eq!(env.name(), "hypergrid");
    assert_eq!(env.signature(), "hypergrid:2:8:0.01:0.5:2");
    let bits = BitSequence::new(BitSequenceConfig::default()).unwrap();
    assert_eq!((bits.name(), bits.action_count(), bits.feature_dim()), ("bitseq".into(), 257, 15 * 256));
}

#[test]
fn default_configs_are_valid_and_serde_friendly() {
    assert!(Hypergrid::new(HypergridConfig::default()).is_ok());
    assert!(BitSequence::new(BitSequenceConfig::default()).is_ok());
    assert!(SetGeneration::new(SetConfig::default()).is_ok());
    assert!(SequenceGeneration::new(SequenceConfig::default()).is_ok());
    fn serde_bounds<T: serde::Serialize + serde::de::DeserializeOwned + Clone + PartialEq + Default>() {}
    serde_bounds::<HypergridConfig>();
    serde_bounds::<BitSequenceConfig>();
    serde_bounds::<SetConfig>();
    serde_bounds::<SequenceConfig>();
}
