//! DAG-specific results of `gfn train dag`: metrics against the exact posterior and the true
//! graph, edge marginals and sampled graphs as CSV.

use std::path::Path;

use gfn_core::Error;
use gfn_core::backend::Cpu;
use gfn_core::eval::ExactEvaluator;
use gfn_core::policy::Exploration;
use gfn_core::rng::Purpose;
use gfn_core::sampler::{Draw, sample_forward};
use gfn_core::train::Trainer;
use gfn_envs::dag::{Dag, DagEnv, DagMetrics, ExactPosterior, GraphDistribution, MAX_ENUMERABLE_NODES};
use serde_json::json;

use super::args::TrainArgs;
use super::{CliError, CliResult};

/// Samples `--export-samples` graphs from the trained policy, computes the metrics (exactly for
/// `d ≤ 5`), writes the requested CSV files and returns the results for the JSON summary.
pub(crate) fn export(trainer: &Trainer<DagEnv, Cpu>, args: &TrainArgs) -> CliResult<serde_json::Value> {
    let env = trainer.env();
    if args.export_samples == 0 {
        return Err(Error::config("export_samples", 0, "must be at least 1").into());
    }
    let draw = Draw { seed: trainer.config().seed, purpose: Purpose::Eval, round: u64::MAX };
    let traj = sample_forward(env, trainer.policy(), args.export_samples, Exploration::default(), draw)?;
    let samples: Vec<Dag> = (0..traj.len()).map(|i| *traj.terminal(i)).collect();
    let empirical = GraphDistribution::from_samples(&samples)?;
    let truth = env.simulation().map(|s| s.graph);
    let exact = if env.nodes() <= MAX_ENUMERABLE_NODES {
        let posterior = ExactPosterior::new(env)?;
        let evaluator = ExactEvaluator::new(env)?;
        let (p, _) = evaluator.terminal_distribution(env, trainer.policy())?;
        let model = posterior.align(evaluator.terminal_states().zip(p))?;
        let sampled = posterior.align(empirical.graphs().iter().zip(empirical.probs().iter().copied()))?;
        Some((posterior, model, sampled))
    } else {
        None
    };
    let (sample_metrics, model_metrics, posterior_metrics) = match &exact {
        Some((posterior, model, sampled)) => {
            let target = Some(posterior.distribution());
            (
                DagMetrics::compute(sampled, target, truth.as_ref())?,
                Some(DagMetrics::compute(model, target, truth.as_ref())?),
                Some(DagMetrics::compute(posterior.distribution(), target, truth.as_ref())?),
            )
        }
        None => (DagMetrics::compute(&empirical, None, truth.as_ref())?, None, None),
    };
    let model_marginals = exact.as_ref().map(|(_, model, _)| model.edge_marginals());
    let posterior_marginals = exact.as_ref().map(|(posterior, _, _)| posterior.distribution().edge_marginals());
    if let Some(path) = &args.edge_marginals {
        let columns = [Some(empirical.edge_marginals()), model_marginals, posterior_marginals];
        write_marginals(path, env, &columns, truth.as_ref())?;
    }
    if let Some(path) = &args.samples_out {
        let mut rows = vec![["sample", "edges", "log_reward"].map(String::from).to_vec()];
        for (i, g) in samples.iter().enumerate() {
            let edges: Vec<String> = g.edges().map(|(a, b)| format!("{a}->{b}")).collect();
            rows.push(vec![i.to_string(), edges.join(" "), traj.log_reward[i].to_string()]);
        }
        write_csv(path, &rows)?;
    }
    let cache = env.cache_stats();
    let m = model_metrics.as_ref().unwrap_or(&sample_metrics);
    eprintln!(
        "dag: JSD {} (exact: {}), edge MAE {}, E-SHD {}, AUROC {}; score cache hit rate {:.4} ({} entries)",
        fmt(m.jsd),
        model_metrics.is_some(),
        fmt(m.edge_mae),
        fmt(m.expected_shd),
        fmt(m.auroc),
        cache.hit_rate(),
        cache.entries
    );
    Ok(json!({
        "samples": args.export_samples,
        "sample_metrics": sample_metrics,
        "exact_model_metrics": model_metrics,
        "exact_posterior_metrics": posterior_metrics,
        "true_graph": truth.map(|t| format!("{t:?}")),
        "score_cache": { "hits": cache.hits, "misses": cache.misses, "entries": cache.entries, "hit_rate": cache.hit_rate() },
    }))
}

fn fmt(value: Option<f64>) -> String {
    value.map_or("n/a".into(), |v| format!("{v:.4}"))
}

/// One row per ordered pair `i ≠ j`: the marginals of the samples, of the exact learned
/// distribution and of the exact posterior (empty when unavailable), and the true edge.
fn write_marginals(path: &Path, env: &DagEnv, columns: &[Option<Vec<f64>>; 3], truth: Option<&Dag>) -> CliResult<()> {
    let d = env.nodes();
    let names = env.data().names();
    let mut rows = vec![
        [
            "source",
            "target",
            "source_name",
            "target_name",
            "p_samples",
            "p_model_exact",
            "p_posterior_exact",
            "true_edge",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for i in 0..d {
        for j in (0..d).filter(|&j| j != i) {
            let mut row = vec![i.to_string(), j.to_string(), names[i].clone(), names[j].clone()];
            row.extend(columns.iter().map(|c| c.as_ref().map_or(String::new(), |m| m[i * d + j].to_string())));
            row.push(truth.map_or(String::new(), |t| u8::from(t.has_edge(i, j)).to_string()));
            rows.push(row);
        }
    }
    write_csv(path, &rows)
}

/// Writes `rows` as CSV (quoting as needed).
fn write_csv(path: &Path, rows: &[Vec<String>]) -> CliResult<()> {
    let io = |e: csv::Error| CliError::from(Error::io(path, std::io::Error::other(e)));
    let mut out = csv::Writer::from_path(path).map_err(io)?;
    for row in rows {
        out.write_record(row).map_err(io)?;
    }
    out.flush().map_err(|e| CliError::from(Error::io(path, e)))
}
