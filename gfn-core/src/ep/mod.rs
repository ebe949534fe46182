//! Embarrassingly parallel GFlowNets (EP-GFlowNets; seed `000`, ALGORITHMS §1.3–1.4 and §3).
//!
//! The reward is a product of factors, `R(x) = Π_n R_n(x)` ([`FactoredReward`], e.g.
//! [`Factored`]). Client `n` trains a GFlowNet on its own factor through a [`ClientView`], whose
//! only reward is `R_n` (contrastive balance by default, any objective works); clients run in
//! parallel ([`train_clients`]) and send their policies ([`PolicyFile`]) to the server in one
//! communication round. The [`Server`] trains on its [`ServerView`], which has no reward at all:
//! it samples trajectories from its own `P_F`, evaluates every frozen client's `P_F` and `P_B` on the
//! same transitions ([`ClientEnsemble`]) and minimises aggregating balance
//! ([`AggregatingBalance`]). On enumerable environments [`local_failure`], [`ideal_aggregate`] and
//! [`evaluate_aggregate`] compute the local-failure bound of seed eq. 10 and the Jeffrey divergence
//! it bounds. [`run_local`] runs the whole protocol on one machine.

mod ab;
mod bound;
mod client;
mod ensemble;
mod factored;
mod policy_file;
mod report;
mod run;
mod server;
mod view;

#[cfg(test)]
mod tests;

pub use ab::AggregatingBalance;
pub use bound::{LocalFailure, ideal_aggregate, jeffrey, local_failure};
pub use client::{ClientOutcome, ClientReport, client_seed, train_client, train_clients};
pub use ensemble::ClientEnsemble;
pub use factored::{Factored, FactoredReward, RewardFactors};
pub use policy_file::{POLICY_FORMAT, PolicyFile, PolicyMeta};
pub use report::{AggregateReport, evaluate_aggregate};
pub use run::{LocalRun, run_local};
pub use server::Server;
pub use view::{ClientView, ServerView};
