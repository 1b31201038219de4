//! A [`Session`] runs the encoder of a shared [`Model`] with its own scratch memory: one per
//! thread, reused across calls, so after the first call of a given size nothing is allocated.
//!
//! A batch is not padded: the tokens of all its sequences are stacked into one `[tokens, hidden]`
//! matrix, so the linear layers see every real token once and no padding; attention runs per
//! sequence over that sequence's own rows, which is exactly what the attention mask means.

use crate::attention::attend;
use crate::blob::TensorData;
use crate::embeddings::embed;
use crate::model::Model;
use crate::plan::{LayerPlan, LinearRef, NormRef};
use crate::EngineError;
use edgebert_kernels::packed::{PackedF16, PackedF32, PackedI8};
use edgebert_kernels::PackedI4;
use edgebert_kernels::{Epilogue, Kernels, LinearI8, Scratch};
use edgebert_models::{gelu_tanh, Activation, Sequence};

/// Buffers that grow to the largest batch seen, then are reused.
#[derive(Default)]
struct Buffers {
    hidden: Vec<f32>,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    context: Vec<f32>,
    attn: Vec<f32>,
    inter: Vec<f32>,
    /// Start row of each sequence in the stacked matrices, plus the total at the end.
    starts: Vec<usize>,
}

/// Per-thread state for running a [`Model`].
pub struct Session<'m> {
    model: &'m Model,
    bufs: Buffers,
    /// One kernel scratch per thread block.
    scratch: Vec<Scratch>,
    /// Hidden states after the embeddings and after each layer, when asked for (eval).
    keep_layers: bool,
    layers_out: Vec<Vec<f32>>,
    /// Let heads that read only some rows of the last hidden state (classification: each
    /// sequence's first token; fill-mask: the masked positions) run the last layer on those rows
    /// alone. On by default; the rows they read are bit-identical either way.
    last_layer_rows: bool,
}

/// A session's scratch memory without its model, to keep between calls: bindings that make a
/// session per call (Python, C) park it here so the next call allocates nothing. Reusing it
/// changes no result: every buffer is overwritten before it is read.
#[derive(Default)]
pub struct SessionMemory {
    bufs: Buffers,
    scratch: Vec<Scratch>,
}

/// Where each sequence of `batch` starts in the stacked matrices, then the total row count.
pub(crate) fn sequence_starts(batch: &[Sequence]) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(batch.iter().scan(0, |end, s| {
        *end += s.ids.len();
        Some(*end)
    }))
}

/// `v[..len]`, growing `v` first when it is shorter: scratch buffers only ever grow.
pub(crate) fn grow(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if v.len() < len {
        v.resize(len, 0.0);
    }
    &mut v[..len]
}

impl Model {
    /// A new session (per-thread scratch) over this model.
    pub fn session(&self) -> Session<'_> {
        Session::new(self)
    }
}

impl<'m> Session<'m> {
    pub fn new(model: &'m Model) -> Session<'m> {
        Session::with_memory(model, SessionMemory::default())
    }

    /// A session that starts with the memory an earlier one left ([`Session::into_memory`]).
    pub fn with_memory(model: &'m Model, memory: SessionMemory) -> Session<'m> {
        Session {
            model,
            bufs: memory.bufs,
            scratch: memory.scratch,
            keep_layers: false,
            layers_out: Vec::new(),
            last_layer_rows: true,
        }
    }

    /// The session's scratch memory, for a later [`Session::with_memory`] (on any model).
    pub fn into_memory(self) -> SessionMemory {
        SessionMemory { bufs: self.bufs, scratch: self.scratch }
    }

    /// Whether classification and fill-mask run the last layer only on the rows they read
    /// (default on; see [`Session::encode_rows`]). Off, every row is computed, as for embeddings.
    pub fn set_last_layer_rows(&mut self, on: bool) {
        self.last_layer_rows = on;
    }

    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// Also keep the hidden state after the embeddings and after every layer (for per-layer error
    /// reports); see [`Session::layer_states`].
    pub fn keep_layer_states(&mut self, keep: bool) {
        self.keep_layers = keep;
    }

    /// The states kept by the last [`Session::encode`] when [`Session::keep_layer_states`] is on:
    /// `num_hidden_layers + 1` stacked `[tokens, hidden]` matrices.
    pub fn layer_states(&self) -> &[Vec<f32>] {
        &self.layers_out
    }

    /// The stacked last hidden state of the last [`Session::encode`].
    pub fn last_hidden(&self) -> &[f32] {
        let tokens = self.bufs.starts.last().copied().unwrap_or(0);
        &self.bufs.hidden[..tokens * self.model.info().config.hidden_size]
    }

    /// The last hidden state with the session's kernel scratch, for the heads' linear layers (so
    /// they reuse the scratch instead of allocating one per call).
    pub(crate) fn hidden_and_scratch(&mut self) -> (&[f32], &mut Vec<Scratch>) {
        let tokens = self.bufs.starts.last().copied().unwrap_or(0);
        (&self.bufs.hidden[..tokens * self.model.info().config.hidden_size], &mut self.scratch)
    }

    /// Row ranges of each sequence of the last batch in the stacked matrices.
    pub fn sequence_rows(&self, b: usize) -> std::ops::Range<usize> {
        self.bufs.starts[b]..self.bufs.starts[b + 1]
    }

    /// Runs the encoder; returns the stacked last hidden state `[tokens, hidden]` (sequence `b` is
    /// rows [`Session::sequence_rows`]`(b)`).
    pub fn encode(&mut self, batch: &[Sequence]) -> Result<&[f32], EngineError> {
        self.encode_rows(batch, None)
    }

    /// [`Session::encode`] for a caller that reads only the stacked rows `needed` (ascending, in
    /// range) of the last hidden state: the last layer's attention, linears and LayerNorms run on
    /// those rows alone (its keys and values still come from every row), unless per-layer
    /// states are kept or [`Session::set_last_layer_rows`] is off. Those rows are bit-identical
    /// to a full run (every kernel treats rows independently); the others hold stale values.
    /// For a classifier at 128 tokens this skips most of one layer in six.
    pub(crate) fn encode_rows(
        &mut self,
        batch: &[Sequence],
        needed: Option<&[usize]>,
    ) -> Result<&[f32], EngineError> {
        let model = self.model;
        let c = &model.info().config;
        model.check_input(batch)?;
        let h = c.hidden_size;
        let bufs = &mut self.bufs;
        bufs.starts.clear();
        bufs.starts.extend(sequence_starts(batch));
        let tokens = bufs.starts.last().copied().unwrap_or(0);
        self.layers_out.clear();
        let plan = model.plan();
        match plan.projection {
            None => embed(model, batch, grow(&mut bufs.hidden, tokens * h))?,
            Some(projection) => {
                // ALBERT: embeddings at their own width, then projected to the hidden size. The
                // context buffer is free until the first layer's attention.
                let e = c.embedding_size;
                embed(model, batch, grow(&mut bufs.context, tokens * e))?;
                let hidden = grow(&mut bufs.hidden, tokens * h);
                linear(
                    model,
                    projection,
                    &bufs.context[..tokens * e],
                    tokens,
                    false,
                    None,
                    hidden,
                    &mut self.scratch,
                )?;
            }
        }
        if self.keep_layers {
            self.layers_out.push(bufs.hidden[..tokens * h].to_vec());
        }
        let needed = needed.filter(|_| self.last_layer_rows && !self.keep_layers);
        for (i, layer) in plan.layers.iter().enumerate() {
            let only = needed.filter(|_| i + 1 == plan.layers.len());
            run_layer(model, layer, bufs, &mut self.scratch, tokens, only)?;
            if self.keep_layers {
                self.layers_out.push(bufs.hidden[..tokens * h].to_vec());
            }
        }
        Ok(&self.bufs.hidden[..tokens * h])
    }
}

/// One encoder layer. With `only` (ascending stacked rows), everything after the key and value
/// projections runs on those rows alone: their attention, then the row-local rest of the layer
/// on a compact `[rows, h]` block, written back into `hidden` at those rows.
fn run_layer(
    model: &Model,
    layer: &LayerPlan,
    bufs: &mut Buffers,
    scratch: &mut Vec<Scratch>,
    tokens: usize,
    only: Option<&[usize]>,
) -> Result<(), EngineError> {
    let c = &model.info().config;
    let (h, f) = (c.hidden_size, c.intermediate_size);
    if let Some(&r) = only.and_then(|rows| rows.iter().find(|&&r| r >= tokens)) {
        return Err(EngineError::Input(edgebert_models::ModelError::PositionOutOfRange {
            position: r,
            len: tokens,
        }));
    }
    let hidden = &bufs.hidden[..tokens * h];
    let qkv = [grow(&mut bufs.q, tokens * h), grow(&mut bufs.k, tokens * h), grow(&mut bufs.v, tokens * h)];
    query_key_value(model, layer, hidden, tokens, qkv, scratch)?;
    // The rest of the layer is row-local: a query row's attention needs every key and value
    // (all computed above) but only its own query, and the linears, GELU and LayerNorms act on
    // each row alone. So one split of the rows serves all of it: one fork-join instead of
    // five, each thread's rows staying in its own cache, and results that do not depend on
    // the split.
    let kernels = model.kernels();
    let tail = LayerTail::of(model, layer)?;
    // int8 layers get int8 attention where the backend has a kernel for it: it costs a third of
    // f32 attention, and its error is small beside the int8 linears' around it (docs/DESIGN.md).
    // f32 and f16 blobs keep f32 attention: they must match the reference closely.
    let int8 = kernels.has_fast_attention_i8()
        && matches!(Weight::of(model, layer.query)?, Weight::I8(_) | Weight::I4(_));
    let (k, v, starts) = (&bufs.k[..tokens * h], &bufs.v[..tokens * h], &bufs.starts);
    let Some(rows) = only else {
        let q = &bufs.q[..tokens * h];
        let (blocks, block) = row_blocks(
            [(&mut bufs.hidden, h), (&mut bufs.context, h), (&mut bufs.attn, h), (&mut bufs.inter, f)],
            tokens,
            scratch,
        );
        crate::parallel::for_each_block4(blocks, scratch, |i, [hidden, ctx, attn, inter], scratch| {
            let (r0, rows) = (i * block, hidden.len() / h);
            attend(kernels, c, q, k, v, starts, r0..r0 + rows, ctx, scratch, int8);
            tail.run(kernels, ctx, rows, hidden, attn, inter, scratch);
        });
        return Ok(());
    };
    let m = rows.len();
    let ctx = grow(&mut bufs.context, m * h);
    let q = &bufs.q[..tokens * h];
    if scratch.is_empty() {
        scratch.push(Scratch::default());
    }
    for (i, &r) in rows.iter().enumerate() {
        attend(kernels, c, q, k, v, starts, r..r + 1, &mut ctx[i * h..(i + 1) * h], &mut scratch[0], int8);
    }
    // The query buffer is free now: it holds the rows' hidden states, in and out.
    let compact = grow(&mut bufs.q, m * h);
    for (i, &r) in rows.iter().enumerate() {
        compact[i * h..(i + 1) * h].copy_from_slice(&bufs.hidden[r * h..(r + 1) * h]);
    }
    let (blocks, _) = row_blocks(
        [(&mut bufs.q, h), (&mut bufs.context, h), (&mut bufs.attn, h), (&mut bufs.inter, f)],
        m,
        scratch,
    );
    crate::parallel::for_each_block4(blocks, scratch, |_, [hidden, ctx, attn, inter], scratch| {
        tail.run(kernels, ctx, hidden.len() / h, hidden, attn, inter, scratch);
    });
    for (i, &r) in rows.iter().enumerate() {
        bufs.hidden[r * h..(r + 1) * h].copy_from_slice(&bufs.q[i * h..(i + 1) * h]);
    }
    Ok(())
}

/// The first `rows` rows of four buffers (`(buffer, row width)`), to be cut into one block of
/// rows per thread; returns them with the block length in elements, and the rows per block.
/// Grows the buffers and the per-block scratch as needed.
#[allow(clippy::type_complexity)]
fn row_blocks<'a>(
    bufs: [(&'a mut Vec<f32>, usize); 4],
    rows: usize,
    scratch: &mut Vec<Scratch>,
) -> ([(&'a mut [f32], usize); 4], usize) {
    let block = crate::parallel::block_rows(rows, crate::parallel::threads(), MIN_ROWS_PER_THREAD);
    if scratch.len() < rows.div_ceil(block).max(1) {
        scratch.resize_with(rows.div_ceil(block).max(1), Scratch::default);
    }
    (bufs.map(|(buf, width)| (grow(buf, rows * width), block * width)), block)
}

/// Everything of a layer after attention, all row-local: output projection + residual,
/// LayerNorm, intermediate + GELU, output projection + residual, LayerNorm.
struct LayerTail<'a> {
    wo: (Weight<'a>, &'a [f32]),
    wi: (Weight<'a>, &'a [f32]),
    wf: (Weight<'a>, &'a [f32]),
    norm1: (&'a [f32], &'a [f32]),
    norm2: (&'a [f32], &'a [f32]),
    erf: bool,
    eps: f32,
}

impl<'a> LayerTail<'a> {
    fn of(model: &'a Model, layer: &LayerPlan) -> Result<LayerTail<'a>, EngineError> {
        let weight =
            |l: LinearRef| -> Result<_, EngineError> { Ok((Weight::of(model, l)?, model.f32(l.bias)?)) };
        let norm = |n: NormRef| -> Result<_, EngineError> { Ok((model.f32(n.gamma)?, model.f32(n.beta)?)) };
        let c = &model.info().config;
        Ok(LayerTail {
            wo: weight(layer.attention_output)?,
            wi: weight(layer.intermediate)?,
            wf: weight(layer.output)?,
            norm1: norm(layer.attention_norm)?,
            norm2: norm(layer.output_norm)?,
            erf: c.hidden_act == Activation::GeluErf,
            eps: c.layer_norm_eps,
        })
    }

    /// `rows` rows: `ctx` (attention output) in, `hidden` (the layer's input) in and out.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        kernels: Kernels,
        ctx: &[f32],
        rows: usize,
        hidden: &mut [f32],
        attn: &mut [f32],
        inter: &mut [f32],
        scratch: &mut Scratch,
    ) {
        let ((wo, bo), (wi, bi), (wf, bf)) = (&self.wo, &self.wi, &self.wf);
        let ep = Epilogue { bias: Some(bo), gelu: false, residual: Some(hidden) };
        wo.run(kernels, ctx, rows, &ep, attn, scratch);
        kernels.layer_norm(attn, self.norm1.0, self.norm1.1, self.eps);
        let ep = Epilogue { bias: Some(bi), gelu: self.erf, residual: None };
        wi.run(kernels, attn, rows, &ep, inter, scratch);
        if !self.erf {
            // gelu_new (ALBERT): the kernels' epilogue only has the erf form.
            inter.iter_mut().for_each(|v| *v = gelu_tanh(*v));
        }
        let ep = Epilogue { bias: Some(bf), gelu: false, residual: Some(attn) };
        wf.run(kernels, inter, rows, &ep, hidden, scratch);
        kernels.layer_norm(hidden, self.norm2.0, self.norm2.1, self.eps);
    }
}

/// The query, key and value projections of `a` (`[m, h]`) into `out`. With int8 weights the
/// kernels quantize each row once for the three ([`Kernels::linear_i8_shared`]), and the rows
/// are split across threads once; other encodings run as three [`linear`]s.
fn query_key_value(
    model: &Model,
    layer: &LayerPlan,
    a: &[f32],
    m: usize,
    out: [&mut [f32]; 3],
    scratches: &mut Vec<Scratch>,
) -> Result<(), EngineError> {
    let refs = [layer.query, layer.key, layer.value];
    let ws = [Weight::of(model, refs[0])?, Weight::of(model, refs[1])?, Weight::of(model, refs[2])?];
    let [Weight::I8(wq), Weight::I8(wk), Weight::I8(wv)] = ws else {
        for (l, out) in refs.into_iter().zip(out) {
            linear(model, l, a, m, false, None, out, scratches)?;
        }
        return Ok(());
    };
    let biases = [model.f32(refs[0].bias)?, model.f32(refs[1].bias)?, model.f32(refs[2].bias)?];
    // The plan gives the three projections the same [h, h] shape.
    let (n, k) = (refs[0].n, refs[0].k);
    let threads = crate::parallel::threads();
    let block = crate::parallel::block_rows(m, threads, MIN_ROWS_PER_THREAD);
    let blocks = m.div_ceil(block).max(1);
    if scratches.len() < blocks {
        scratches.resize_with(blocks, Scratch::default);
    }
    let [oq, ok, ov] = out;
    let out = [&mut oq[..m * n], &mut ok[..m * n], &mut ov[..m * n]];
    crate::parallel::for_each_block3(out, block * n, scratches, |i, [oq, ok, ov], scratch| {
        let (r0, rows) = (i * block, oq.len() / n.max(1));
        let ep = |b| Epilogue { bias: Some(b), gelu: false, residual: None };
        let mut layers = [
            LinearI8 { w: wq, ep: ep(biases[0]), out: oq },
            LinearI8 { w: wk, ep: ep(biases[1]), out: ok },
            LinearI8 { w: wv, ep: ep(biases[2]), out: ov },
        ];
        model.kernels().linear_i8_shared(&a[r0 * k..(r0 + rows) * k], rows, &mut layers, scratch);
    });
    Ok(())
}

/// `out = [gelu](a · Wᵀ + b) [+ residual]` with the weight's own encoding, rows split across the
/// current pool's threads (one scratch each).
#[allow(clippy::too_many_arguments)]
pub(crate) fn linear(
    model: &Model,
    l: LinearRef,
    a: &[f32],
    m: usize,
    gelu: bool,
    residual: Option<&[f32]>,
    out: &mut [f32],
    scratches: &mut Vec<Scratch>,
) -> Result<(), EngineError> {
    let weight = Weight::of(model, l)?;
    let bias = model.f32(l.bias)?;
    let threads = crate::parallel::threads();
    let block = crate::parallel::block_rows(m, threads, MIN_ROWS_PER_THREAD);
    let blocks = m.div_ceil(block).max(1);
    if scratches.len() < blocks {
        scratches.resize_with(blocks, Scratch::default);
    }
    let (n, k) = (l.n, l.k);
    crate::parallel::for_each_block(&mut out[..m * n], block * n, scratches, |i, out, scratch| {
        let (r0, rows) = (i * block, out.len() / n.max(1));
        let ep = Epilogue { bias: Some(bias), gelu, residual: residual.map(|r| &r[r0 * n..(r0 + rows) * n]) };
        weight.run(model.kernels(), &a[r0 * k..(r0 + rows) * k], rows, &ep, out, scratch);
    });
    Ok(())
}

/// Below this many rows per thread, splitting costs more than it saves.
const MIN_ROWS_PER_THREAD: usize = 4;

/// A linear weight as the kernels take it.
enum Weight<'a> {
    I8(PackedI8<'a>),
    I4(PackedI4<'a>),
    F16(PackedF16<'a>),
    F32(PackedF32<'a>),
}

impl<'a> Weight<'a> {
    fn of(model: &'a Model, l: LinearRef) -> Result<Weight<'a>, EngineError> {
        let layout = |e: edgebert_kernels::packed::LayoutError| EngineError::PackedLayout {
            name: model.tensor_name(l.weight).to_string(),
            problem: e.to_string(),
        };
        Ok(match model.tensor(l.weight)? {
            TensorData::I8Channel { data, scales, col_sums } => {
                Weight::I8(PackedI8::new(data, scales, col_sums, l.n, l.k).map_err(layout)?)
            }
            TensorData::I4Group { data, scales, w_sums } => {
                Weight::I4(PackedI4::new(data, scales, w_sums, l.n, l.k).map_err(layout)?)
            }
            TensorData::F16(d) => Weight::F16(PackedF16::new(d, l.n, l.k).map_err(layout)?),
            TensorData::F32(d) => Weight::F32(PackedF32::new(d, l.n, l.k).map_err(layout)?),
            _ => {
                let info = &model.blob().tensors()[l.weight];
                return Err(EngineError::UnusableEncoding {
                    name: info.name.clone(),
                    encoding: info.encoding,
                    layout: info.layout,
                    role: "a packed linear weight",
                });
            }
        })
    }

    fn run(&self, k: Kernels, a: &[f32], m: usize, ep: &Epilogue, out: &mut [f32], scratch: &mut Scratch) {
        match self {
            Weight::I8(w) => k.linear_i8(a, m, w, ep, out, scratch),
            Weight::I4(w) => k.linear_i4(a, m, w, ep, out, scratch),
            Weight::F16(w) => k.linear_f16(a, m, w, ep, out, scratch),
            Weight::F32(w) => k.linear_f32(a, m, w, ep, out, scratch),
        }
    }
}
