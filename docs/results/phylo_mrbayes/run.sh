#!/usr/bin/env bash
# MrBayes benchmark for gfn's phylogenetics tools (issue 6).
#
# 1. Simulate a JC69 alignment of TAXA (default 8) taxa with `gfn phylo simulate` (Exp(10) branch lengths,
#    uniform topology).
# 2. Run MrBayes 3.2 on it with the PhyloGFN/VBPI benchmark model: JC69 (nst=1, rates=equal,
#    equal base frequencies), i.i.d. Exp(10) branch lengths, uniform topologies. Two MCMC runs
#    (posterior split frequencies) and a stepping-stone estimate of the marginal likelihood.
# 3. Summarise both MrBayes runs with `gfn phylo splits` and compare them with each other (the
#    MCMC noise floor of the ASDSF) and, when a gfn tree sample is given (GFN_SAMPLES=file of
#    Newick or NEXUS trees over the same taxon names), with the gfn sample.
#
# Usage: docs/results/phylo_mrbayes/run.sh [OUTDIR]   (from the workspace root)
# Environment: GFN (the gfn binary, default target/release/gfn), MB (default mb), TAXA (8), SITES (100),
# SEED (1), NGEN (MCMC generations, 100000), SS_NGEN (stepping-stone generations, 100000),
# GFN_SAMPLES (optional gfn tree sample), GFN_TRAIN=1 (train the recommended continuous-length
# sampler first, seed GFN_SEED (default 1), GFN_ITERATIONS (default 40000), and compare it: its
# split frequencies against MrBayes' and its importance-sampled marginal likelihood).
set -euo pipefail

OUT=${1:-docs/results/phylo_mrbayes/out}
GFN=${GFN:-target/release/gfn}
MB=${MB:-mb}
SITES=${SITES:-100}
TAXA=${TAXA:-8}
SEED=${SEED:-1}
NGEN=${NGEN:-100000}
SS_NGEN=${SS_NGEN:-100000}
mkdir -p "$OUT"

"$GFN" phylo simulate --taxa "$TAXA" --sites "$SITES" --seed "$SEED" --out "$OUT/sim.nex" --tree-out "$OUT/true.nwk" > /dev/null
echo "true tree: $(cat "$OUT/true.nwk")"
"$GFN" phylo score --alignment "$OUT/sim.nex" --newick "$OUT/true.nwk" --json > "$OUT/true_tree_score.json"

MODEL='lset nst=1 rates=equal;
prset brlenspr=unconstrained:exp(10.0) topologypr=uniform statefreqpr=fixed(equal);'

cat > "$OUT/mcmc.mb" <<MB
set autoclose=yes nowarn=yes seed=$SEED swapseed=$SEED;
execute sim.nex;
$MODEL
mcmc ngen=$NGEN samplefreq=100 printfreq=$NGEN nruns=2 nchains=4 diagnfreq=10000 filename=mcmc;
sumt filename=mcmc;
quit;
MB
cat > "$OUT/ss.mb" <<MB
set autoclose=yes nowarn=yes seed=$SEED swapseed=$SEED;
execute sim.nex;
$MODEL
ss ngen=$SS_NGEN nsteps=20 alpha=0.4 burninss=-1 samplefreq=100 printfreq=$SS_NGEN nruns=2 nchains=4 diagnfreq=10000 filename=ss;
quit;
MB

( cd "$OUT" && nice timeout 300 "$MB" mcmc.mb > mcmc.log 2>&1 )
( cd "$OUT" && nice timeout 300 "$MB" ss.mb > ss.log 2>&1 )

# Stepping-stone marginal likelihood: MrBayes prints a table "Run  Marginal likelihood (ln)".
awk '/Marginal likelihood \(ln\)/,/Mean:/' "$OUT/ss.log" | tee "$OUT/ss_marginal.txt"

# Split frequencies of the pooled MrBayes runs (25% burn-in), and run 1 vs run 2.
"$GFN" phylo splits --trees "$OUT/mcmc.run1.t" "$OUT/mcmc.run2.t" --burnin 0.25 | tee "$OUT/mrbayes_splits.txt"
"$GFN" phylo splits --trees "$OUT/mcmc.run1.t" --compare "$OUT/mcmc.run2.t" --burnin 0.25 --json \
    > "$OUT/mrbayes_run1_vs_run2.json"
echo "MrBayes run 1 vs run 2: $(grep -o '"asdsf":[^,]*' "$OUT/mrbayes_run1_vs_run2.json"), \
$(grep -o '"max_abs_difference":[^,]*' "$OUT/mrbayes_run1_vs_run2.json")"

if [[ "${GFN_TRAIN:-0}" == 1 ]]; then
    # VarGrad is invariant to a constant reward offset, so none is needed for a new alignment.
    "$GFN" train phylo --alignment "$OUT/sim.nex" --reward jc69 --branch-lengths continuous \
        --condition-temperatures 16,8,4,2,1 --condition-schedule annealed \
        --objective vargrad --lr 0.0003 --iterations "${GFN_ITERATIONS:-40000}" --batch-size 16 \
        --seed "${GFN_SEED:-1}" --checkpoint "$OUT/gfn.safetensors" --json > "$OUT/gfn_train.json"
    "$GFN" sample --checkpoint "$OUT/gfn.safetensors" -n 10000 --format newick > "$OUT/gfn.nwk"
    "$GFN" phylo mll --checkpoint "$OUT/gfn.safetensors" --samples 10000 --json | tee "$OUT/gfn_mll.json"
    GFN_SAMPLES="$OUT/gfn.nwk"
fi

if [[ -n "${GFN_SAMPLES:-}" ]]; then
    "$GFN" phylo splits --trees "$OUT/mcmc.run1.t" "$OUT/mcmc.run2.t" --burnin 0.25 --compare "$GFN_SAMPLES" \
        | tee "$OUT/mrbayes_vs_gfn.txt"
fi
