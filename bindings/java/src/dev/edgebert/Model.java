package dev.edgebert;

/**
 * An edgebert model (a converted {@code .ebq} blob) ready to classify texts or embed them.
 *
 * <pre>{@code
 * try (Model m = Model.open("/data/local/tmp/sentiment.ebq")) {
 *     Model.Classification c = m.classify("A gem of a film.");
 *     System.out.println(c.label + " " + c.score);   // positive 0.98...
 * }
 * }</pre>
 *
 * <p>The native library {@code libedgebert.so} (built from edgebert's {@code capi} crate with
 * {@code --features jni}) is loaded on first use. Every failure throws {@link EdgebertException}
 * with the engine's message. One {@code Model} serves one thread at a time (its methods are
 * synchronized); open one per thread for parallel work: the blob's pages are mapped, so the
 * weights are shared in memory either way.
 */
public final class Model implements AutoCloseable {
    static {
        System.loadLibrary("edgebert");
    }

    /** One text's result: the best label, its probability, and every label's probability. */
    public static final class Classification {
        public final String label;
        public final int labelIndex;
        public final float score;
        /** Probabilities in label order ({@link Model#labels()}). */
        public final float[] probs;

        Classification(String label, int labelIndex, float[] probs) {
            this.label = label;
            this.labelIndex = labelIndex;
            this.score = probs[labelIndex];
            this.probs = probs;
        }
    }

    private long model;
    private long session;
    private final String[] labels;
    private final int embeddingDim;

    private Model(long model) {
        this.model = model;
        try {
            this.session = nativeSessionNew(model);
            this.labels = nativeLabels(model);
            this.embeddingDim = nativeEmbeddingDim(model);
        } catch (RuntimeException e) {
            nativeFree(model, session);
            throw e;
        }
    }

    /** Opens (maps) the blob file at {@code path}. */
    public static Model open(String path) {
        return new Model(nativeOpenPath(path));
    }

    /**
     * Opens a blob stored at {@code [offset, offset + length)} of an open file: on Android, an
     * asset stored uncompressed in the APK, from {@code AssetManager.openFd(name)}:
     * {@code getParcelFileDescriptor().getFd()}, {@code getStartOffset()}, {@code getLength()}.
     * The descriptor may be closed once this returns.
     */
    public static Model openFd(int fd, long offset, long length) {
        return new Model(nativeOpenFd(fd, offset, length));
    }

    /** Opens a blob from a copy of {@code blob} (for blobs that are not in a file). */
    public static Model fromBytes(byte[] blob) {
        return new Model(nativeOpenBytes(blob));
    }

    /** Label names in probability order; empty for an embedding model. */
    public String[] labels() {
        return labels.clone();
    }

    /** The length of {@link #embed}'s vectors (the hidden size, e.g. 384). */
    public int embeddingDim() {
        return embeddingDim;
    }

    /** The kernel backend in use ("neon-dotprod", "avx2", ...). */
    public synchronized String backend() {
        return nativeBackend(live());
    }

    /** Classifies one text (throws for a model without a classification head). */
    public synchronized Classification classify(String text) {
        float[] probs = new float[labels.length];
        int best = nativeClassify(liveSession(), text, probs);
        return new Classification(labels.length > 0 ? labels[best] : "", best, probs);
    }

    /** The sentence embedding of one text (L2-normalised for sentence-transformers models). */
    public synchronized float[] embed(String text) {
        float[] out = new float[embeddingDim];
        nativeEmbed(liveSession(), text, out);
        return out;
    }

    /** Frees the native model; calling it again does nothing, any other call then throws. */
    @Override
    public synchronized void close() {
        if (model != 0) {
            long m = model, s = session;
            model = 0;
            session = 0;
            nativeFree(m, s);
        }
    }

    private long live() {
        if (model == 0) {
            throw new IllegalStateException("the model is closed");
        }
        return model;
    }

    private long liveSession() {
        live();
        return session;
    }

    private static native long nativeOpenPath(String path);

    private static native long nativeOpenFd(int fd, long offset, long length);

    private static native long nativeOpenBytes(byte[] blob);

    private static native long nativeSessionNew(long model);

    private static native void nativeFree(long model, long session);

    private static native String[] nativeLabels(long model);

    private static native int nativeEmbeddingDim(long model);

    private static native String nativeBackend(long model);

    private static native int nativeClassify(long session, String text, float[] probs);

    private static native void nativeEmbed(long session, String text, float[] out);
}
