package training

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/wmss/wmss"
)

// Env is what Run needs besides the job: where to store records and files,
// and the engine to train on.
type Env struct {
	Store  wmss.JobStore
	Engine Engine
	// DataDir holds every job's files under jobs/<id>/ (JobDir); artifact
	// paths are relative to it.
	DataDir string
	// Heldout, when set, is a data set (read like the training data,
	// length policy truncate) whose loss, in nats per supervised token, is
	// measured on the model of every training phase.
	Heldout *DataSpec
	// Evaluate, when set, runs the spec's evaluation on the model in
	// modelDir after a phase named in evaluation.after ("base", "pretrain",
	// "sft", "joint"). Without it an evaluation in the spec is recorded as
	// skipped (an event), not run.
	Evaluate func(ctx context.Context, job *wmss.Job, spec *EvaluationSpec, phase, modelDir string) error
	Logger   *slog.Logger // default slog.Default()
	// Drain, when closed, asks the job to stop at the next optimizer-step
	// boundary of a training phase after writing a checkpoint there; Run
	// then returns ErrDrained. The runner closes it when the server stops.
	Drain <-chan struct{}
}

// JobDir returns the directory of a job's files: dataDir/jobs/<id>.
func JobDir(dataDir string, id wmss.JobID) string {
	return filepath.Join(dataDir, "jobs", string(id))
}

// ModelDirName is the directory, inside JobDir, of a finished job's
// extracted model (HF layout).
const ModelDirName = "model"

// Progress is a running job's progress as stored (wmss.Job.Progress).
type Progress struct {
	Phase  string `json:"phase"`           // metric phase name: pretrain, sft, select, joint, …
	Round  int    `json:"round,omitempty"` // round of Algorithm 1 (select and joint)
	Step   int    `json:"step"`            // optimizer steps taken in the phase
	Total  int    `json:"total"`           // optimizer steps planned for the phase
	Stage  int    `json:"stage"`           // 1-based index of the phase in the job
	Stages int    `json:"stages"`          // phases of the job
}

// Phase kinds of a job, in pipeline order.
const (
	stagePretrain = "pretrain"
	stageSFT      = "sft"
	stageSelect   = "select"
	stageJoint    = "joint"
)

// stage is one phase of a job.
type stage struct {
	Kind  string
	Round int    // 1…K for select and joint, else 0
	Name  string // metric phase: Kind, with ".<round>" for rounds after the first
}

// planStages lists the phases of a spec: [pretrain] sft, then for WMSS
// select and joint per round (Algorithm 1).
func planStages(s *Spec) []stage {
	var out []stage
	if s.BaseModel.Pretrain != nil {
		out = append(out, stage{Kind: stagePretrain, Name: stagePretrain})
	}
	out = append(out, stage{Kind: stageSFT, Name: stageSFT})
	if s.Kind == KindWMSS {
		for r := 1; r <= s.Rounds; r++ {
			suffix := ""
			if r > 1 {
				suffix = fmt.Sprintf(".%d", r)
			}
			out = append(out,
				stage{Kind: stageSelect, Round: r, Name: stageSelect + suffix},
				stage{Kind: stageJoint, Round: r, Name: stageJoint + suffix})
		}
	}
	return out
}

// pipeline is one execution (or resumption) of a job.
type pipeline struct {
	env    Env
	job    *wmss.Job
	spec   *Spec
	dir    string // JobDir
	h      string // engine handle prefix of this job
	log    *slog.Logger
	st     ResumeState
	stages []stage
	live   map[string]bool // engine handles to release at the end

	samples  int // kept training samples, registered as h+"data"
	blocks   int // pretraining corpus blocks, registered as h+"corpus"
	heldout  bool
	tokenDir string // tokenizer directory of the base model
}

// Run executes a training job (kinds wmss and sft_baseline) from the start,
// or from its last checkpoint when job.Resume holds a ResumeState:
// [init] [pretrain] SFT, then per round selection and joint training, and
// the extracted strong model in JobDir/model. It stores per-step metrics,
// events, progress and checkpoints through env.Store as it goes and
// returns the job summary (also when it fails, as far as it got).
//
// Metrics (wmss.Metric, phase = the phase name, step = optimizer steps
// taken, 1-based): loss (nats per supervised token), lr, lambda (joint
// only), grad_norm (before clipping), supervised_tokens, samples,
// tokens_per_s (supervised tokens per second of the step's engine call),
// and the engine's logit statistics (target_logit, logit_gap, …). A step
// the engine skips for lack of supervised tokens stores no metric; it is
// counted in the summary and reported by a "step_skipped" event (T24). The
// held-out loss of a phase's model is the metric "heldout.<phase>".
//
// Errors: those of loading the data (EINVALID, naming file and line), a
// *EngineError for an exception in the engine, an error wrapping ctx.Err()
// when ctx ends (the last checkpoint stays), and an error when a phase ends
// short of its planned steps (training case T03).
func Run(ctx context.Context, job *wmss.Job, spec *Spec, env Env) (*Summary, error) {
	if env.Logger == nil {
		env.Logger = slog.Default()
	}
	p := &pipeline{
		env: env, job: job, spec: spec, dir: JobDir(env.DataDir, job.ID), h: string(job.ID) + "/",
		log: env.Logger.With("job", job.ID), stages: planStages(spec), live: map[string]bool{},
	}
	st, err := decodeResume(job.Resume)
	if err != nil {
		return nil, err
	}
	if st != nil {
		p.st = *st
		p.st.Summary.Resumes++
	} else {
		p.st = ResumeState{Version: ResumeVersion, Summary: Summary{Kind: spec.Kind}}
	}
	defer p.releaseAll(ctx)
	err = p.run(ctx)
	return &p.st.Summary, err
}

func (p *pipeline) run(ctx context.Context) error {
	if p.st.Stage > len(p.stages) {
		return wmss.Errorf(wmss.ECONFLICT, "resume state is at phase %d of %d", p.st.Stage+1, len(p.stages))
	}
	if err := os.MkdirAll(filepath.Join(p.dir, "models"), 0o755); err != nil {
		return err
	}
	if err := p.ensureBase(ctx); err != nil {
		return err
	}
	if err := p.prepareData(ctx); err != nil {
		return err
	}
	if p.st.Stage == 0 && p.st.Checkpoint == "" && p.spec.BaseModel.Pretrain == nil {
		if err := p.evaluate(ctx, PhaseBase, p.baseDir()); err != nil {
			return err
		}
	}
	for p.st.Stage < len(p.stages) {
		s := p.stages[p.st.Stage]
		var err error
		if s.Kind == stageSelect {
			err = p.selectStage(ctx, s)
		} else {
			err = p.trainStage(ctx, s)
		}
		if err != nil {
			return err
		}
		// Evaluation belongs to its phase: a job killed during it redoes it.
		switch s.Kind {
		case stagePretrain: // the base model of the job is the pretrained one
			err = p.evaluate(ctx, PhaseBase, p.outputDir(s))
			if err == nil {
				err = p.evaluate(ctx, PhasePretrain, p.outputDir(s))
			}
		case stageSFT, stageJoint:
			err = p.evaluate(ctx, evalPhase(s), p.outputDir(s))
		}
		if err != nil {
			return err
		}
		p.st.Stage++
		p.st.Position, p.st.Checkpoint, p.st.EngineSteps = Position{}, "", 0
		ps := p.phaseSummary(s)
		if err := p.saveResume(ctx, s, ps.Steps, ps.TotalSteps); err != nil {
			return err
		}
		p.event(ctx, "phase_finished", map[string]any{"phase": s.Name, "round": s.Round})
	}
	// T03: a job is only done when every phase took all its planned steps.
	for _, ps := range p.st.Summary.Phases {
		if !ps.Done || ps.Steps < ps.TotalSteps {
			return wmss.Errorf(wmss.EINTERNAL, "phase %s ended at step %d of %d planned", ps.Name, ps.Steps, ps.TotalSteps)
		}
	}
	model := filepath.Join(p.dir, ModelDirName)
	if _, err := os.Stat(filepath.Join(model, "config.json")); err != nil {
		return fmt.Errorf("the extracted model is missing: %w", err)
	}
	rel, _ := filepath.Rel(p.env.DataDir, model)
	p.st.Summary.Model = rel
	return p.putModelArtifacts(ctx, model)
}

// ---------------------------------------------------------------- models

// initDir is where a random-init base model is written.
func (p *pipeline) initDir() string { return filepath.Join(p.dir, "models", "init") }

// baseDir is M0: the spec's path, the init model, or the pretrained one.
func (p *pipeline) baseDir() string {
	switch {
	case p.spec.BaseModel.Path != "":
		return p.spec.BaseModel.Path
	case p.spec.BaseModel.Pretrain != nil:
		return filepath.Join(p.dir, "models", "m0")
	default:
		return p.initDir()
	}
}

// modelDir is M_t: M0 the base, M1 after SFT, M_{t+1} after joint round t.
func (p *pipeline) modelDir(t int) string {
	if t == 0 {
		return p.baseDir()
	}
	if p.spec.Kind == KindSFTBaseline || t == p.spec.Rounds+1 {
		return filepath.Join(p.dir, ModelDirName)
	}
	return filepath.Join(p.dir, "models", fmt.Sprintf("m%d", t))
}

// inputDirs are the strong and weak models a training phase starts from.
func (p *pipeline) inputDirs(s stage) (strong, weak string) {
	switch s.Kind {
	case stagePretrain:
		return p.initDir(), ""
	case stageSFT:
		return p.baseDir(), ""
	default: // joint round r: weak M_{r−1}, strong M_r
		return p.modelDir(s.Round), p.modelDir(s.Round - 1)
	}
}

// outputDir is where a training phase writes its model.
func (p *pipeline) outputDir(s stage) string {
	switch s.Kind {
	case stagePretrain:
		return p.baseDir()
	case stageSFT:
		return p.modelDir(1)
	default:
		return p.modelDir(s.Round + 1)
	}
}

// ensureBase writes the random-init model (deterministic in its seed) when
// the spec asks for one and it is not there yet, and finds the tokenizer.
func (p *pipeline) ensureBase(ctx context.Context) error {
	in := p.spec.BaseModel.Init
	if in == nil {
		p.tokenDir = p.spec.BaseModel.Path
		if _, err := os.Stat(filepath.Join(p.tokenDir, "config.json")); err != nil {
			return wmss.FieldErrorf("base_model.path", "not a model directory: %v", err)
		}
		return nil
	}
	p.tokenDir = p.initDir()
	if _, err := os.Stat(filepath.Join(p.initDir(), "config.json")); err == nil {
		return nil
	}
	tmp := p.initDir() + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	req := InitModelRequest{Out: tmp, Size: in.Size, Seed: in.Seed, TokenizerDir: in.Tokenizer}
	if in.BPEVocab > 0 && p.spec.BaseModel.Pretrain != nil {
		req.BPECorpus, req.BPEVocab = p.spec.BaseModel.Pretrain.Corpus, in.BPEVocab
	}
	err := p.env.Engine.InitModel(ctx, req)
	if err != nil {
		return err
	}
	if err := replaceDir(tmp, p.initDir()); err != nil {
		return err
	}
	p.event(ctx, "model_initialised", map[string]any{"size": in.Size, "seed": in.Seed})
	return nil
}

// ------------------------------------------------------------------ data

// prepareData reads, tokenizes and registers the training set (and the
// held-out set and pretraining corpus), filling the data summary. It runs
// on every start; it is deterministic, so a resumed job sees the same
// dataset positions.
func (p *pipeline) prepareData(ctx context.Context) error {
	maxLen := p.spec.Optimizer.MaxLength
	ds, err := LoadData(p.spec.Data)
	if err != nil {
		return err
	}
	sum := DataSummary{File: ds.File, Read: len(ds.Samples), Skipped: ds.Skipped, Dropped: map[string]int{}}
	addProblem := func(pr Problem) {
		if len(sum.Problems) < 100 {
			sum.Problems = append(sum.Problems, pr)
		}
	}
	for _, pr := range ds.Problems {
		if !structural(pr.Reason) {
			sum.Dropped[pr.Reason]++
		}
		addProblem(pr)
	}
	p.live[p.h+"data"] = true // from here on the engine holds tokens under it
	keep, rep, err := p.tokenize(ctx, p.h+"data", ds, maxLen, p.spec.Data.LengthPolicy, func(pr Problem) {
		sum.Dropped[pr.Reason]++
		addProblem(pr)
	})
	if err != nil {
		return err
	}
	if len(keep) == 0 {
		return wmss.FieldErrorf("data.path", "%s: no usable sample (%d read; dropped by reason: %v)", ds.File, len(ds.Samples), sum.Dropped)
	}
	reg, err := p.env.Engine.RegisterTokenized(ctx, p.h+"data", keep, maxLen)
	if err != nil {
		return err
	}
	sum.Truncated, sum.Kept, sum.SupervisedTokens = rep.Truncated, reg.Samples, reg.SupervisedTokens
	p.samples = reg.Samples
	p.st.Summary.Data = sum

	if hs := p.env.Heldout; hs != nil {
		hd, err := LoadData(*hs)
		if err != nil {
			return fmt.Errorf("held-out set: %w", err)
		}
		p.live[p.h+"heldout"] = true
		keep, _, err := p.tokenize(ctx, p.h+"heldout", hd, maxLen, LengthTruncate, func(Problem) {})
		if err != nil {
			return fmt.Errorf("held-out set: %w", err)
		}
		if len(keep) > 0 {
			if _, err := p.env.Engine.RegisterTokenized(ctx, p.h+"heldout", keep, maxLen); err != nil {
				return err
			}
			p.heldout = true
		}
	}

	if pt := p.spec.BaseModel.Pretrain; pt != nil {
		p.live[p.h+"corpus"] = true
		reg, err := p.env.Engine.TokenizeCorpus(ctx, p.h+"corpus", p.tokenDir, pt.Corpus, pt.Optimizer.MaxLength)
		if err != nil {
			return err
		}
		p.blocks = reg.Samples
		p.st.Summary.Corpus = &CorpusSummary{File: pt.Corpus, Tokens: reg.Tokens, Blocks: reg.Samples}
	}
	return nil
}

// tokenize has the engine tokenize ds under handle and applies the length
// policy; it returns the positions to keep and reports every dropped sample.
func (p *pipeline) tokenize(ctx context.Context, handle string, ds *Dataset, maxLen int, policy LengthPolicy, drop func(Problem)) ([]int, *LengthReport, error) {
	lens, err := p.env.Engine.TokenizeDataset(ctx, handle, p.tokenDir, ds.Samples, maxLen)
	if err != nil {
		return nil, nil, err
	}
	var cand []int
	var candSamples []Sample
	var candLens []SampleLength
	for i, l := range lens {
		if l.Error != "" {
			drop(Problem{File: ds.File, Line: ds.Samples[i].Line, Reason: l.Error, Detail: l.Message})
			continue
		}
		cand = append(cand, i)
		candSamples = append(candSamples, ds.Samples[i])
		candLens = append(candLens, SampleLength{Tokens: l.Tokens, SupervisedInWindow: l.SupervisedInWindow})
	}
	rep, err := ApplyMaxLength(ds.File, candSamples, candLens, maxLen, policy)
	if err != nil {
		return nil, nil, err
	}
	for _, pr := range rep.Problems {
		drop(pr)
	}
	keep := make([]int, len(rep.Kept))
	for j, k := range rep.Kept {
		keep[j] = cand[k]
	}
	return keep, rep, nil
}

// ------------------------------------------------------------- training

// phaseSeed derives the data-order seed of a phase from the spec's seed.
func phaseSeed(seed uint64, phase string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(phase))
	return seed ^ h.Sum64()
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// trainStage runs a training phase (pretrain, SFT, or joint training of a
// round) from its checkpoint or its start, then writes its model.
func (p *pipeline) trainStage(ctx context.Context, s stage) error {
	opt := p.spec.Optimizer
	dataset, n, items := p.h+"data", p.samples, []int(nil)
	length, loss := p.spec.SFT, LossCompletion
	var lambda *LambdaSchedule
	switch s.Kind {
	case stagePretrain:
		pt := p.spec.BaseModel.Pretrain
		opt, dataset, n = *pt.Optimizer, p.h+"corpus", p.blocks
		length, loss = PhaseSpec{Epochs: pt.Epochs, Steps: pt.Steps}, LossFull
	case stageJoint:
		sel := p.selection(s.Round)
		if sel == nil {
			return wmss.Errorf(wmss.EINTERNAL, "joint round %d: no selection from phase 2", s.Round)
		}
		items, n = sel, len(sel)
		length, loss = p.spec.Joint.Phase(), p.spec.Joint.LossPositions
		l := p.spec.Joint.Schedule()
		lambda = &l
	}
	plan, err := NewPlan(PlanConfig{
		Samples: n, MicroBatch: opt.MicroBatch, GlobalBatch: opt.GlobalBatch,
		Epochs: deref(length.Epochs), Steps: deref(length.Steps), Shuffle: true, Seed: phaseSeed(p.spec.Seed, s.Name),
	})
	if err != nil {
		return prefixField(s.Name, err)
	}
	total := plan.TotalSteps()
	ps := p.phaseSummary(s)
	ps.TotalSteps = total
	lr := opt.LRSchedule()

	cfg := TrainerConfig{Handle: p.h + "trainer", Strong: p.h + "strong", WeightDecay: opt.WeightDecay, Clip: opt.Clip}
	if s.Kind == stageJoint {
		cfg.Weak, cfg.WeakMode = p.h+"weak", p.spec.Joint.Weak
	}
	p.live[cfg.Handle], p.live[cfg.Strong] = true, true
	if cfg.Weak != "" {
		p.live[cfg.Weak] = true
	}
	pos := Position{}
	if p.st.Checkpoint != "" {
		pos = p.st.Position
		if err := plan.Check(pos); err != nil {
			return fmt.Errorf("resume %s: %w", s.Name, err)
		}
		steps, err := p.env.Engine.LoadTrainer(ctx, cfg, filepath.Join(p.dir, p.st.Checkpoint))
		if err != nil {
			return err
		}
		if steps != p.st.EngineSteps {
			return wmss.Errorf(wmss.EINTERNAL, "resume %s: the engine checkpoint %s is at optimizer step %d, the job's state at %d",
				s.Name, p.st.Checkpoint, steps, p.st.EngineSteps)
		}
		p.event(ctx, "phase_resumed", map[string]any{"phase": s.Name, "round": s.Round, "step": pos.Step, "total": total, "checkpoint": p.st.Checkpoint})
	} else {
		strong, weak := p.inputDirs(s)
		if err := p.env.Engine.LoadModel(ctx, cfg.Strong, strong); err != nil {
			return err
		}
		if cfg.Weak != "" {
			if err := p.env.Engine.LoadModel(ctx, cfg.Weak, weak); err != nil {
				return err
			}
		}
		if err := p.env.Engine.CreateTrainer(ctx, cfg); err != nil {
			return err
		}
		p.event(ctx, "phase_started", map[string]any{"phase": s.Name, "round": s.Round, "total": total})
	}
	if err := p.setProgress(ctx, s, pos.Step, total); err != nil {
		return err
	}
	it, err := plan.Iterator(pos)
	if err != nil {
		return err
	}
	engineSteps := p.st.EngineSteps
	started, seconds := time.Now(), ps.Seconds
	for {
		t, mbs, ok := it.Next()
		if !ok {
			break
		}
		req := StepRequest{
			Trainer: cfg.Handle, Dataset: dataset, MicroBatch: opt.MicroBatch,
			LR: lr.At(t, total), LossPositions: loss,
		}
		for _, mb := range mbs {
			for _, i := range mb {
				if items != nil {
					i = items[i]
				}
				req.Indices = append(req.Indices, i)
			}
		}
		if lambda != nil {
			l := lambda.At(t, total)
			req.Lambda = &l
		}
		t0 := time.Now()
		res, err := p.env.Engine.Step(ctx, req)
		if err != nil {
			return fmt.Errorf("%s step %d of %d: %w", s.Name, t+1, total, err)
		}
		dt := time.Since(t0).Seconds()
		ps.Steps = t + 1
		if res.Skipped || res.Loss == nil {
			// T24: nothing to learn in this batch; never a NaN or 0.0 loss.
			ps.SkippedSteps++
			reason := res.Reason
			if reason == "" {
				reason = ReasonNoSupervisedTokens
			}
			p.event(ctx, "step_skipped", map[string]any{"phase": s.Name, "step": t + 1, "reason": reason})
		} else {
			if !finite(*res.Loss) {
				return wmss.Errorf(wmss.EINTERNAL, "%s step %d: the engine reported a non-finite loss %v", s.Name, t+1, *res.Loss)
			}
			engineSteps++
			ps.Tokens += int64(res.SupervisedTokens)
			p.st.Summary.TokensProcessed += int64(res.SupervisedTokens)
			l := *res.Loss
			ps.FinalLoss = &l
			v := map[string]float64{
				"loss": l, "lr": req.LR, "grad_norm": res.GradNorm,
				"supervised_tokens": float64(res.SupervisedTokens), "samples": float64(len(req.Indices)),
			}
			if dt > 0 {
				v["tokens_per_s"] = float64(res.SupervisedTokens) / dt
			}
			if req.Lambda != nil {
				v["lambda"] = *req.Lambda
			}
			for k, x := range res.Stats {
				if finite(x) {
					v[k] = x
				}
			}
			if err := p.env.Store.AddMetrics(ctx, wmss.Metric{JobID: p.job.ID, Phase: s.Name, Step: t + 1, Time: time.Now().UTC(), Values: v}); err != nil {
				return err
			}
		}
		ps.Seconds = seconds + time.Since(started).Seconds()
		done := t + 1
		every := p.spec.Checkpoint.EverySteps
		saved := every > 0 && done%every == 0 && done < total
		if saved {
			if err := p.checkpoint(ctx, s, cfg.Handle, it.Position(), engineSteps, total); err != nil {
				return err
			}
		} else if err := p.setProgress(ctx, s, done, total); err != nil {
			return err
		}
		if p.draining() && done < total {
			// The server is stopping: keep this step boundary, so the job
			// resumes exactly here.
			if !saved {
				if err := p.checkpoint(ctx, s, cfg.Handle, it.Position(), engineSteps, total); err != nil {
					return err
				}
			}
			p.event(ctx, "drained", map[string]any{"phase": s.Name, "step": done, "total": total})
			return ErrDrained
		}
	}
	if ps.Steps < total {
		return wmss.Errorf(wmss.EINTERNAL, "%s ended at step %d of %d planned", s.Name, ps.Steps, total)
	}
	// The phase-end checkpoint, unless the job resumed from it.
	if p.st.Checkpoint == "" || p.st.Position.Step < total {
		if err := p.checkpoint(ctx, s, cfg.Handle, it.Position(), engineSteps, total); err != nil {
			return err
		}
	}
	out := p.outputDir(s)
	tmp := out + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := p.env.Engine.ExtractStrong(ctx, cfg.Handle, tmp); err != nil {
		return err
	}
	if err := replaceDir(tmp, out); err != nil {
		return err
	}
	if p.heldout {
		h, err := p.env.Engine.HeldoutLoss(ctx, cfg.Strong, p.h+"heldout")
		if err != nil {
			return err
		}
		if h.Loss != nil {
			ps.HeldoutLoss = h.Loss
			m := wmss.Metric{JobID: p.job.ID, Phase: "heldout." + s.Name, Step: total, Time: time.Now().UTC(),
				Values: map[string]float64{"loss": *h.Loss, "supervised_tokens": float64(h.SupervisedTokens)}}
			if err := p.env.Store.AddMetrics(ctx, m); err != nil {
				return err
			}
		}
	}
	ps.Done = true
	return p.release(ctx, cfg.Handle, cfg.Strong, cfg.Weak)
}

// checkpoint writes the engine state (weights, optimizer, RNG) of trainer
// to a new checkpoint directory (through a .tmp directory and a rename),
// then stores the Go state as the job's resume JSON, then deletes the
// checkpoints beyond checkpoint.keep_last. A kill at any point leaves the
// resume JSON naming a complete checkpoint.
func (p *pipeline) checkpoint(ctx context.Context, s stage, trainer string, pos Position, engineSteps, total int) error {
	seq := p.st.Seq + 1
	name := checkpointDirName(seq, s.Name, pos.Step)
	root := filepath.Join(p.dir, "checkpoints")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	dir := filepath.Join(root, name)
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := p.env.Engine.SaveTrainer(ctx, trainer, tmp); err != nil {
		return err
	}
	prev := p.st
	p.st.Seq, p.st.Position, p.st.EngineSteps = seq, pos, engineSteps
	p.st.Checkpoint = filepath.Join("checkpoints", name)
	state, err := json.MarshalIndent(p.st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "state.json"), state, 0o644); err != nil {
		return err
	}
	if err := replaceDir(tmp, dir); err != nil {
		return err
	}
	if err := p.saveResume(ctx, s, pos.Step, total); err != nil {
		p.st = prev
		return err
	}
	p.event(ctx, "checkpoint", map[string]any{"phase": s.Name, "step": pos.Step, "total": total, "path": p.st.Checkpoint})
	return pruneCheckpoints(root, p.spec.Checkpoint.KeepLast, name)
}

// saveResume stores progress and the resume state in one write.
func (p *pipeline) saveResume(ctx context.Context, s stage, step, total int) error {
	resume, err := json.Marshal(p.st)
	if err != nil {
		return err
	}
	return p.env.Store.SetProgress(ctx, p.job.ID, p.progressJSON(s, step, total), resume)
}

func (p *pipeline) setProgress(ctx context.Context, s stage, step, total int) error {
	return p.env.Store.SetProgress(ctx, p.job.ID, p.progressJSON(s, step, total), nil)
}

func (p *pipeline) progressJSON(s stage, step, total int) json.RawMessage {
	b, _ := json.Marshal(Progress{Phase: s.Name, Round: s.Round, Step: step, Total: total,
		Stage: min(p.st.Stage+1, len(p.stages)), Stages: len(p.stages)})
	return b
}

// phaseSummary returns the summary entry of s, adding it on first use.
func (p *pipeline) phaseSummary(s stage) *PhaseSummary {
	for i := range p.st.Summary.Phases {
		if p.st.Summary.Phases[i].Name == s.Name {
			return &p.st.Summary.Phases[i]
		}
	}
	p.st.Summary.Phases = append(p.st.Summary.Phases, PhaseSummary{Name: s.Name, Round: s.Round})
	return &p.st.Summary.Phases[len(p.st.Summary.Phases)-1]
}

// ------------------------------------------------------------ selection

func (p *pipeline) selection(round int) []int {
	for _, s := range p.st.Selections {
		if s.Round == round {
			return s.Indices
		}
	}
	return nil
}

// selectStage is phase 2 of a round: entropies of M_{r−1} (weak) and M_r
// (strong) on every sample, the sampling weights and the seeded draw
// (Select), written as the artifacts selection[-r<r>].jsonl and
// selection[-r<r>].summary.json. Round r > 1 draws with seed + r − 1.
func (p *pipeline) selectStage(ctx context.Context, s stage) error {
	started := time.Now()
	ps := p.phaseSummary(s)
	p.event(ctx, "phase_started", map[string]any{"phase": s.Name, "round": s.Round})
	if err := p.setProgress(ctx, s, 0, 0); err != nil {
		return err
	}
	weak, strong := p.h+"weak", p.h+"strong"
	p.live[weak], p.live[strong] = true, true
	var ent [2][]*float64
	for i, m := range []struct{ handle, dir string }{{weak, p.modelDir(s.Round - 1)}, {strong, p.modelDir(s.Round)}} {
		if err := p.env.Engine.LoadModel(ctx, m.handle, m.dir); err != nil {
			return err
		}
		h, err := p.env.Engine.SampleEntropy(ctx, m.handle, p.h+"data")
		if err != nil {
			return err
		}
		if len(h) != p.samples {
			return wmss.Errorf(wmss.EINTERNAL, "%s: the engine returned %d entropies for %d samples", s.Name, len(h), p.samples)
		}
		ent[i] = h
		if err := p.release(ctx, m.handle); err != nil {
			return err
		}
	}
	entropies := make([]SampleEntropy, p.samples)
	for i := range entropies {
		w, st := ent[0][i], ent[1][i]
		if w == nil || st == nil {
			entropies[i] = SampleEntropy{Missing: true}
			continue
		}
		entropies[i] = SampleEntropy{Weak: *w, Strong: *st}
	}
	opts := p.spec.Selection.Options()
	opts.Resample.Seed += uint64(s.Round - 1)
	sel, err := Select(entropies, opts)
	if err != nil {
		return prefixField("selection", err)
	}
	if len(sel.Indices) == 0 {
		return wmss.Errorf(wmss.EINVALID, "%s: the selection drew no sample", s.Name)
	}
	base := "selection"
	if s.Round > 1 {
		base = fmt.Sprintf("selection-r%d", s.Round)
	}
	var buf bytes.Buffer
	if err := sel.WriteJSONL(&buf); err != nil {
		return err
	}
	if err := p.putArtifact(ctx, base+".jsonl", buf.Bytes()); err != nil {
		return err
	}
	sum, _ := json.MarshalIndent(sel.Summary, "", "  ")
	if err := p.putArtifact(ctx, base+".summary.json", sum); err != nil {
		return err
	}
	p.st.Selections = slices.DeleteFunc(p.st.Selections, func(r RoundSelection) bool { return r.Round == s.Round })
	p.st.Selections = append(p.st.Selections, RoundSelection{Round: s.Round, Indices: sel.Indices})
	p.st.Summary.Selection = append(p.st.Summary.Selection, sel.Summary)
	ps.Done = true
	ps.Seconds += time.Since(started).Seconds()
	p.event(ctx, "selection", sel.Summary)
	return nil
}

// ------------------------------------------------------------ artifacts

// putArtifact writes data to JobDir/name atomically and records it.
func (p *pipeline) putArtifact(ctx context.Context, name string, data []byte) error {
	path := filepath.Join(p.dir, name)
	if err := writeFileAtomic(path, data); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	rel, _ := filepath.Rel(p.env.DataDir, path)
	return p.env.Store.PutArtifact(ctx, wmss.Artifact{JobID: p.job.ID, Name: name, Path: rel, Bytes: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), CreatedAt: time.Now().UTC()})
}

// putModelArtifacts records every file of the extracted model as
// "model/<file>".
func (p *pipeline) putModelArtifacts(ctx context.Context, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		n, sum, err := hashFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(p.env.DataDir, path)
		a := wmss.Artifact{JobID: p.job.ID, Name: ModelDirName + "/" + e.Name(), Path: rel, Bytes: n, SHA256: sum, CreatedAt: time.Now().UTC()}
		if err := p.env.Store.PutArtifact(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// ------------------------------------------------------------ evaluation

func evalPhase(s stage) string {
	switch s.Kind {
	case stagePretrain:
		return PhasePretrain
	case stageSFT:
		return PhaseSFT
	default:
		return PhaseJoint
	}
}

// evaluate runs env.Evaluate after phase when the spec asks for it.
func (p *pipeline) evaluate(ctx context.Context, phase, modelDir string) error {
	ev := p.spec.Evaluation
	if ev == nil || !slices.Contains(ev.After, phase) {
		return nil
	}
	if p.env.Evaluate == nil {
		p.event(ctx, "evaluation_skipped", map[string]any{"phase": phase, "reason": "this runner has no evaluator"})
		return nil
	}
	return p.env.Evaluate(ctx, p.job, ev, phase, modelDir)
}

// ErrDrained is returned by Run when Env.Drain stopped the job at a
// checkpoint; the job resumes there.
var ErrDrained = errors.New("training: stopped at a checkpoint because the server is stopping")

// draining reports whether Env.Drain is closed.
func (p *pipeline) draining() bool {
	select {
	case <-p.env.Drain:
		return true
	default:
		return false
	}
}

// -------------------------------------------------------------- plumbing

func (p *pipeline) event(ctx context.Context, typ string, data any) {
	if _, err := p.env.Store.AppendEvent(ctx, p.job.ID, typ, data); err != nil && ctx.Err() == nil {
		p.log.Warn("append event", "type", typ, "err", err)
	}
}

func (p *pipeline) release(ctx context.Context, handles ...string) error {
	for _, h := range handles {
		if h == "" || !p.live[h] {
			continue
		}
		if err := p.env.Engine.Release(ctx, h); err != nil {
			return err
		}
		delete(p.live, h)
	}
	return nil
}

// releaseAll drops the job's engine handles, also after a cancel or an
// error (with a context of its own, so a cancelled job still frees memory).
func (p *pipeline) releaseAll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for _, h := range slices.Sorted(maps.Keys(p.live)) {
		if err := p.env.Engine.Release(ctx, h); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			p.log.Warn("release engine handle", "handle", h, "err", err)
		}
		delete(p.live, h)
	}
}
