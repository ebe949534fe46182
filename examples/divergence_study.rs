//! The divergence study: every divergence objective (trajectory balance as the baseline, reverse
//! KL, forward KL, Rényi-α, Tsallis-α, α-KL, α-TB) with every control variate it supports, on
//! small hypergrid, set-generation and sequence-generation tasks whose exact L1 is computable,
//! over several seeds.
//!
//! ```sh
//! nice cargo run --release --example divergence_study -- [--iterations N] [--seeds K] [--out DIR]
//! nice cargo run --release --example divergence_study -- --alpha-sweep
//! ```
//!
//! Writes into `DIR` (default `docs/results/divergences`): `curves.csv` (exact L1 against
//! iterations and training seconds), `variance.csv` (trace of the covariance of the gradient
//! estimator over independent batches, at initialisation and at the end), `summary.csv` (per
//! task, objective and control variate over seeds), and the plots `l1_iterations_<task>.png`,
//! `l1_time_<task>.png` and `gradient_variance.png`. With `--alpha-sweep` it runs Rényi-α and
//! Tsallis-α (leave-one-out baseline) for α ∈ {−1, 0.25, 0.5, 0.75, 1.5, 2} instead and writes
//! `alpha_curves.csv`, `alpha_variance.csv`, `alpha_summary.csv` and `alpha_sweep.png`. Text in the plots uses the DejaVu Sans font
//! (Debian package `fonts-dejavu-core`) or the TrueType file named by `GFN_FONT`.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use gfn::envs::hypergrid::{Hypergrid, HypergridConfig};
use gfn::envs::sequences::{SequenceConfig, SequenceGeneration};
use gfn::envs::sets::{SetConfig, SetGeneration};
use gfn::prelude::*;
use gfn::train::{ControlVariateKind as Cv, ObjectiveConfig};
use plotters::prelude::*;

type Res<T> = std::result::Result<T, Box<dyn Error>>;

/// Study settings.
struct Settings {
    iterations: u64,
    seeds: u64,
    eval_every: u64,
    variance_batches: u64,
    out: PathBuf,
    /// Run the α sweep of Rényi-α and Tsallis-α instead of the objective × control-variate grid.
    alpha_sweep: bool,
}

/// One objective with one control variate.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Case {
    objective: ObjectiveKind,
    cv: Option<Cv>,
    /// `α` in hundredths (an integer, so that cases order and compare exactly).
    alpha_pct: i32,
}

impl Case {
    fn cv_name(&self) -> &'static str {
        self.cv.map_or("-", |c| c.name())
    }

    fn alpha(&self) -> f64 {
        f64::from(self.alpha_pct) / 100.0
    }
}

/// TB, then every divergence with every control variate it supports.
fn cases() -> Vec<Case> {
    use ObjectiveKind::*;
    let mut out =
        vec![Case { objective: Tb, cv: None, alpha_pct: 50 }, Case { objective: Atb, cv: None, alpha_pct: 50 }];
    let all = [Cv::None, Cv::Learned, Cv::Loo, Cv::Logz, Cv::OptScalar, Cv::OptVector];
    let power = [Cv::None, Cv::Loo, Cv::OptScalar, Cv::OptVector];
    for (objective, cvs) in
        [(Rkl, &all[..]), (Fkl, &power[..]), (Renyi, &power[..]), (Tsallis, &power[..]), (Akl, &all[..5])]
    {
        out.extend(cvs.iter().map(|&cv| Case { objective, cv: Some(cv), alpha_pct: 50 }));
    }
    out
}

/// The α sweep: Rényi-α and Tsallis-α with the leave-one-out baseline.
fn alpha_cases() -> Vec<Case> {
    let mut out = Vec::new();
    for objective in [ObjectiveKind::Renyi, ObjectiveKind::Tsallis] {
        for alpha_pct in ALPHAS_PCT {
            out.push(Case { objective, cv: Some(Cv::Loo), alpha_pct });
        }
    }
    out
}

/// The α values of the sweep, in hundredths.
const ALPHAS_PCT: [i32; 6] = [-100, 25, 50, 75, 150, 200];

/// One evaluation point of a run.
struct Point {
    iteration: u64,
    train_s: f64,
    l1: f64,
}

/// Everything one run measured.
struct Run {
    task: &'static str,
    case: Case,
    seed: u64,
    curve: Vec<Point>,
    /// `tr Cov` of the network gradient at initialisation and at the end.
    variance: [f64; 2],
}

/// `tr Cov` of [`Trainer::gradient`] over `batches` independent batches (the `log Z` entry left out).
fn gradient_variance<E: Environment>(trainer: &mut Trainer<E>, batches: u64) -> Res<f64> {
    let (mut sum, mut sum_sq) = (Vec::<f64>::new(), Vec::<f64>::new());
    for k in 0..batches {
        let mut g = trainer.gradient(1_000_000 + trainer.iteration() * batches + k)?;
        g.pop();
        sum.resize(g.len(), 0.0);
        sum_sq.resize(g.len(), 0.0);
        for (d, v) in g.iter().enumerate() {
            sum[d] += v;
            sum_sq[d] += v * v;
        }
    }
    let n = batches as f64;
    Ok(sum.iter().zip(&sum_sq).map(|(s, q)| (q - s * s / n) / (n - 1.0)).sum())
}

fn run_case<E: Enumerable + Clone + 'static>(
    task: &'static str,
    env: &E,
    exact: &Arc<ExactEvaluator<E::State>>,
    case: Case,
    seed: u64,
    s: &Settings,
) -> Res<Run> {
    let config = TrainConfig {
        seed,
        iterations: s.iterations,
        batch_size: 16,
        objective: ObjectiveConfig {
            kind: case.objective,
            control_variate: case.cv,
            alpha: f64::from(case.alpha_pct) / 100.0,
            ..ObjectiveConfig::default()
        },
        policy: PolicyConfig { hidden: vec![64, 64], ..PolicyConfig::default() },
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(env.clone(), config)?;
    if case.objective.needs_targets() {
        trainer.set_target_sampler(exact.clone());
    }
    let l1 = |t: &Trainer<E>| -> Res<f64> {
        Ok(exact.evaluate(t.env(), t.policy(), t.iteration())?.l1.ok_or("no exact L1")?)
    };
    let initial_variance = gradient_variance(&mut trainer, s.variance_batches)?;
    let mut curve = vec![Point { iteration: 0, train_s: 0.0, l1: l1(&trainer)? }];
    let mut train_s = 0.0;
    while trainer.iteration() < s.iterations {
        let start = Instant::now();
        for _ in 0..s.eval_every.min(s.iterations - trainer.iteration()) {
            trainer.step()?;
        }
        train_s += start.elapsed().as_secs_f64();
        curve.push(Point { iteration: trainer.iteration(), train_s, l1: l1(&trainer)? });
    }
    let final_variance = gradient_variance(&mut trainer, s.variance_batches)?;
    Ok(Run { task, case, seed, curve, variance: [initial_variance, final_variance] })
}

fn run_task<E: Enumerable + Clone + 'static>(task: &'static str, env: E, s: &Settings, runs: &mut Vec<Run>) -> Res<()> {
    let exact = Arc::new(ExactEvaluator::new(&env)?);
    for case in if s.alpha_sweep { alpha_cases() } else { cases() } {
        for seed in 0..s.seeds {
            let run = match run_case(task, &env, &exact, case, seed, s) {
                Ok(run) => run,
                Err(e) => {
                    eprintln!(
                        "{task} {} {} α={} seed {seed}: FAILED: {e}",
                        case.objective,
                        case.cv_name(),
                        case.alpha()
                    );
                    continue;
                }
            };
            let last = run.curve.last().map_or(f64::NAN, |p| p.l1);
            let secs = run.curve.last().map_or(0.0, |p| p.train_s);
            eprintln!(
                "{task} {} {} seed {seed}: L1 {last:.4} in {secs:.2} s, tr Cov {:.3e} -> {:.3e}",
                case.objective,
                case.cv_name(),
                run.variance[0],
                run.variance[1]
            );
            runs.push(run);
        }
    }
    Ok(())
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let v = if x.len() > 1 { x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (m, v.sqrt())
}

/// The runs of each (task, case), in case order.
fn grouped(runs: &[Run]) -> BTreeMap<(&'static str, Case), Vec<&Run>> {
    let mut out: BTreeMap<(&'static str, Case), Vec<&Run>> = BTreeMap::new();
    for r in runs {
        out.entry((r.task, r.case)).or_default().push(r);
    }
    out
}

/// A seed-mean curve: (iteration, mean training seconds, mean L1) per evaluation.
type Curve = Vec<(f64, f64, f64)>;

/// The seed-mean curve of a group.
fn mean_curve(group: &[&Run]) -> Curve {
    (0..group[0].curve.len())
        .map(|k| {
            let n = group.len() as f64;
            let p = &group[0].curve[k];
            let secs = group.iter().map(|r| r.curve[k].train_s).sum::<f64>() / n;
            (p.iteration as f64, secs, group.iter().map(|r| r.curve[k].l1).sum::<f64>() / n)
        })
        .collect()
}

fn write_csvs(runs: &[Run], s: &Settings) -> Res<()> {
    let mut curves = String::from("task,objective,cv,alpha,seed,iteration,train_s,l1\n");
    let mut variance = String::from("task,objective,cv,alpha,seed,trace_cov_init,trace_cov_final\n");
    for r in runs {
        for p in &r.curve {
            writeln!(
                curves,
                "{},{},{},{},{},{:.4},{:.6}",
                r.task,
                r.case.objective,
                r.case.cv_name(),
                r.seed,
                p.iteration,
                p.train_s,
                p.l1
            )?;
        }
        writeln!(
            variance,
            "{},{},{},{},{:.6e},{:.6e}",
            r.task,
            r.case.objective,
            r.case.cv_name(),
            r.seed,
            r.variance[0],
            r.variance[1]
        )?;
    }
    let mut summary = String::from(
        "task,objective,cv,alpha,seeds,final_l1_mean,final_l1_sd,mean_l1_second_half,first_iteration_l1_below_0.5,train_s_mean,trace_cov_init_mean,trace_cov_final_mean\n",
    );
    for ((task, case), group) in grouped(runs) {
        let finals: Vec<f64> = group.iter().map(|r| r.curve.last().map_or(f64::NAN, |p| p.l1)).collect();
        let (m, sd) = mean_sd(&finals);
        let curve = mean_curve(&group);
        let half = &curve[curve.len() / 2..];
        let second_half = half.iter().map(|c| c.2).sum::<f64>() / half.len() as f64;
        let first = curve.iter().find(|c| c.2 < 0.5).map_or("never".to_string(), |c| format!("{}", c.0));
        let secs = curve.last().map_or(0.0, |c| c.1);
        let v0 = mean_sd(&group.iter().map(|r| r.variance[0]).collect::<Vec<_>>()).0;
        let v1 = mean_sd(&group.iter().map(|r| r.variance[1]).collect::<Vec<_>>()).0;
        writeln!(
            summary,
            "{task},{},{},{},{},{m:.4},{sd:.4},{second_half:.4},{first},{secs:.2},{v0:.4e},{v1:.4e}",
            case.objective,
            case.cv_name(),
            case.alpha(),
            group.len()
        )?;
    }
    let prefix = if s.alpha_sweep { "alpha_" } else { "" };
    std::fs::write(s.out.join(format!("{prefix}curves.csv")), curves)?;
    std::fs::write(s.out.join(format!("{prefix}variance.csv")), variance)?;
    std::fs::write(s.out.join(format!("{prefix}summary.csv")), summary)?;
    Ok(())
}

/// The colour of a control variate (TB and α-TB, which have none, are black).
fn cv_color(cv: Option<Cv>) -> RGBColor {
    match cv {
        None => BLACK,
        Some(Cv::None) => RGBColor(150, 150, 150),
        Some(Cv::Learned) => RGBColor(31, 119, 180),
        Some(Cv::Loo) => RGBColor(255, 127, 14),
        Some(Cv::Logz) => RGBColor(44, 160, 44),
        Some(Cv::OptScalar) => RGBColor(214, 39, 40),
        Some(Cv::OptVector) => RGBColor(148, 103, 189),
    }
}

const OBJECTIVES: [ObjectiveKind; 7] = [
    ObjectiveKind::Tb,
    ObjectiveKind::Atb,
    ObjectiveKind::Rkl,
    ObjectiveKind::Fkl,
    ObjectiveKind::Renyi,
    ObjectiveKind::Tsallis,
    ObjectiveKind::Akl,
];

/// One panel per objective: seed-mean L1 (log scale) against iterations (`by_time` false) or
/// training seconds, one line per control variate, TB's curve in every panel for reference.
fn plot_curves(runs: &[Run], task: &str, by_time: bool, path: &Path) -> Res<()> {
    let groups = grouped(runs);
    let root = BitMapBackend::new(path, (1600, 800)).into_drawing_area();
    root.fill(&WHITE)?;
    let x_name = if by_time { "training seconds" } else { "iterations" };
    let root = root.titled(&format!("{task}: exact L1 (mean of seeds) vs {x_name}"), ("sans-serif", 24))?;
    let panels = root.split_evenly((2, 4));
    let pick = |c: &(f64, f64, f64)| if by_time { c.1 } else { c.0 };
    let curves: Vec<(Case, Curve)> =
        groups.iter().filter(|((t, _), _)| *t == task).map(|((_, c), g)| (*c, mean_curve(g))).collect();
    let x_max = curves.iter().flat_map(|(_, c)| c.iter().map(pick)).fold(0.0f64, f64::max).max(1e-9);
    let tb = curves.iter().find(|(c, _)| c.objective == ObjectiveKind::Tb).map(|(_, c)| c.clone());
    for (panel, objective) in panels.iter().zip(OBJECTIVES) {
        let mut chart = ChartBuilder::on(panel)
            .caption(objective.as_str(), ("sans-serif", 20))
            .margin(8)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..x_max, (0.01f64..2.0).log_scale())?;
        chart.configure_mesh().x_desc(x_name).y_desc("L1").label_style(("sans-serif", 13)).draw()?;
        if objective != ObjectiveKind::Tb
            && let Some(tb) = &tb
        {
            chart
                .draw_series(LineSeries::new(tb.iter().map(|c| (pick(c), c.2.max(0.01))), BLACK.mix(0.3)))?
                .label("tb")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 15, y)], BLACK.mix(0.3)));
        }
        for (case, curve) in curves.iter().filter(|(c, _)| c.objective == objective) {
            let color = cv_color(case.cv);
            chart
                .draw_series(LineSeries::new(curve.iter().map(|c| (pick(c), c.2.max(0.01))), color.stroke_width(2)))?
                .label(case.cv_name())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 15, y)], color.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// One panel per task: seed-mean `tr Cov` of the gradient at initialisation (log scale) for every
/// objective (x) and control variate (colour).
fn plot_variance(runs: &[Run], tasks: &[&str], path: &Path) -> Res<()> {
    let groups = grouped(runs);
    let root = BitMapBackend::new(path, (1600, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root
        .titled("gradient variance tr Cov at initialisation (mean of seeds), by control variate", ("sans-serif", 24))?;
    let panels = root.split_evenly((1, tasks.len()));
    for (panel, task) in panels.iter().zip(tasks) {
        let points: Vec<(Case, f64)> = groups
            .iter()
            .filter(|((t, _), _)| t == task)
            .map(|((_, c), g)| (*c, mean_sd(&g.iter().map(|r| r.variance[0]).collect::<Vec<_>>()).0))
            .collect();
        let lo = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min).max(1e-12) / 2.0;
        let hi = points.iter().map(|p| p.1).fold(0.0f64, f64::max) * 2.0;
        let mut chart = ChartBuilder::on(panel)
            .caption(*task, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5f64..6.5, (lo..hi).log_scale())?;
        chart
            .configure_mesh()
            .x_labels(7)
            .x_label_formatter(&|x| {
                let k = x.round();
                if (x - k).abs() < 1e-6 && (0.0..7.0).contains(&k) {
                    OBJECTIVES[k as usize].as_str().to_string()
                } else {
                    String::new()
                }
            })
            .y_desc("tr Cov")
            .label_style(("sans-serif", 13))
            .draw()?;
        let cvs = std::iter::once(None).chain(Cv::ALL.into_iter().map(Some));
        for (j, cv) in cvs.enumerate() {
            let color = cv_color(cv);
            let series: Vec<(f64, f64)> = points
                .iter()
                .filter(|(c, _)| c.cv == cv)
                .filter_map(|(c, v)| {
                    OBJECTIVES.iter().position(|o| *o == c.objective).map(|x| (x as f64 + (j as f64 - 3.0) * 0.1, *v))
                })
                .collect();
            let name = cv.map_or("(none: tb, atb)", |c| c.name());
            chart
                .draw_series(series.iter().map(|&p| Circle::new(p, 5, color.filled())))?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 7, y), 5, color.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// One panel per task: seed-mean final L1 against α, one line per objective.
fn plot_alpha(runs: &[Run], tasks: &[&str], path: &Path) -> Res<()> {
    let groups = grouped(runs);
    let root = BitMapBackend::new(path, (1500, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled("final exact L1 (mean of seeds) against α, leave-one-out baseline", ("sans-serif", 24))?;
    for (panel, task) in root.split_evenly((1, tasks.len())).iter().zip(tasks) {
        let mut chart = ChartBuilder::on(panel)
            .caption(*task, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(-1.2f64..2.2, (0.001f64..2.0).log_scale())?;
        chart.configure_mesh().x_desc("α").y_desc("final L1").label_style(("sans-serif", 13)).draw()?;
        for (objective, color) in
            [(ObjectiveKind::Renyi, RGBColor(214, 39, 40)), (ObjectiveKind::Tsallis, RGBColor(31, 119, 180))]
        {
            let points: Vec<(f64, f64)> = groups
                .iter()
                .filter(|((t, c), _)| t == task && c.objective == objective)
                .map(|((_, c), g)| {
                    let finals: Vec<f64> = g.iter().map(|r| r.curve.last().map_or(f64::NAN, |p| p.l1)).collect();
                    (c.alpha(), mean_sd(&finals).0.max(0.001))
                })
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
                .label(objective.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 15, y)], color.stroke_width(2)));
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn register_font() -> Res<()> {
    let path = std::env::var("GFN_FONT").unwrap_or_else(|_| "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf".into());
    let bytes =
        std::fs::read(&path).map_err(|e| format!("font {path}: {e} (install fonts-dejavu-core or set GFN_FONT)"))?;
    plotters::style::register_font("sans-serif", FontStyle::Normal, Box::leak(bytes.into_boxed_slice()))
        .map_err(|_| format!("font {path}: not a TrueType font"))?;
    Ok(())
}

fn settings() -> Res<Settings> {
    let mut s = Settings {
        iterations: 1000,
        seeds: 3,
        eval_every: 50,
        variance_batches: 32,
        out: PathBuf::from("docs/results/divergences"),
        alpha_sweep: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--alpha-sweep" {
            s.alpha_sweep = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--iterations" => s.iterations = value.parse()?,
            "--seeds" => s.seeds = value.parse()?,
            "--out" => s.out = PathBuf::from(value),
            other => {
                return Err(
                    format!("unknown option {other}; expected --iterations, --seeds, --out, --alpha-sweep").into()
                );
            }
        }
    }
    if s.iterations == 0 || s.seeds == 0 {
        return Err("--iterations and --seeds must be positive".into());
    }
    Ok(s)
}

fn main() -> Res<()> {
    let s = settings()?;
    register_font()?;
    std::fs::create_dir_all(&s.out)?;
    let start = Instant::now();
    let mut runs = Vec::new();
    let grid = Hypergrid::new(HypergridConfig { ndim: 2, height: 8, r0: 0.01, ..HypergridConfig::default() })?;
    run_task("hypergrid", grid, &s, &mut runs)?;
    run_task("sets", SetGeneration::new(SetConfig { pool_size: 8, set_size: 4, seed: 0 })?, &s, &mut runs)?;
    run_task("sequences", SequenceGeneration::new(SequenceConfig { length: 4, vocab: 4, seed: 0 })?, &s, &mut runs)?;
    write_csvs(&runs, &s)?;
    let tasks = ["hypergrid", "sets", "sequences"];
    if s.alpha_sweep {
        plot_alpha(&runs, &tasks, &s.out.join("alpha_sweep.png"))?;
        eprintln!("{} runs in {:.1} s", runs.len(), start.elapsed().as_secs_f64());
        return Ok(());
    }
    for task in tasks {
        plot_curves(&runs, task, false, &s.out.join(format!("l1_iterations_{task}.png")))?;
        plot_curves(&runs, task, true, &s.out.join(format!("l1_time_{task}.png")))?;
    }
    plot_variance(&runs, &tasks, &s.out.join("gradient_variance.png"))?;
    eprintln!("{} runs in {:.1} s", runs.len(), start.elapsed().as_secs_f64());
    Ok(())
}
