package dev.edgebert;

import java.io.File;
import java.io.FileInputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JNI binding's test, a plain main with assertions (no JUnit needed), run by .ci/capi:
 *
 * <pre>java -Djava.library.path=DIR -cp CLASSES dev.edgebert.ModelTest SENTIMENT.ebq MINILM.ebq
 *      CLASSIFY.jsonl TEXTS.txt</pre>
 *
 * CLASSIFY.jsonl is {@code edgebert classify --json} on TEXTS.txt: Java must give the same labels and
 * probabilities (within 1e-6). Then embeddings, opening by fd, errors as exceptions carrying the
 * engine's message, and threads.
 */
public final class ModelTest {
    private static int checks;

    private static void check(boolean ok, String what) {
        checks++;
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    /** Runs {@code body}, which must throw an EdgebertException with {@code code} and a message. */
    private static void expectError(int code, String needle, String what, Runnable body) {
        try {
            body.run();
        } catch (EdgebertException e) {
            check(e.code() == code, what + ": code " + e.code() + ", want " + code + " (" + e.getMessage() + ")");
            check(e.getMessage() != null && e.getMessage().contains(needle), what + ": message '" + e.getMessage() + "' lacks '" + needle + "'");
            System.out.println("ok " + what + " -> EdgebertException(" + e.code() + "): " + e.getMessage());
            return;
        }
        throw new AssertionError(what + ": no exception");
    }

    private static final Pattern LINE = Pattern.compile("\"label\":\"([^\"]*)\",\"score\":([^,]+),\"probs\":\\[([^\\]]*)\\]");

    public static void main(String[] args) throws Exception {
        String sentiment = args[0], minilm = args[1];
        List<String> expected = Files.readAllLines(Path.of(args[2]), StandardCharsets.UTF_8);
        List<String> texts = Files.readAllLines(Path.of(args[3]), StandardCharsets.UTF_8);
        check(expected.size() == texts.size(), "expected lines " + expected.size() + " for " + texts.size() + " texts");

        float worst = 0;
        try (Model m = Model.open(sentiment)) {
            check(m.labels().length == 2 && m.labels()[0].equals("negative") && m.labels()[1].equals("positive"), "labels");
            check(m.embeddingDim() == 384, "embedding dim " + m.embeddingDim());
            check(!m.backend().isEmpty(), "backend");
            for (int i = 0; i < texts.size(); i++) {
                Matcher want = LINE.matcher(expected.get(i));
                check(want.find(), "cannot parse " + expected.get(i));
                Model.Classification c = m.classify(texts.get(i));
                check(c.label.equals(want.group(1)), "text " + i + ": label " + c.label + ", CLI " + want.group(1));
                String[] probs = want.group(3).split(",");
                for (int k = 0; k < probs.length; k++) {
                    worst = Math.max(worst, Math.abs(c.probs[k] - Float.parseFloat(probs[k])));
                }
                check(c.score == c.probs[c.labelIndex], "score is the label's probability");
            }
            check(worst <= 1e-6f, "max |dp| " + worst);
            System.out.println("classify (" + m.backend() + "): " + texts.size() + " texts, labels equal the CLI's, max |dp| " + worst);

            // Four threads share the model (its methods are synchronized): same answers.
            ExecutorService pool = Executors.newFixedThreadPool(4);
            Model.Classification first = m.classify(texts.get(1));
            Future<?>[] jobs = new Future<?>[8];
            for (int j = 0; j < jobs.length; j++) {
                jobs[j] = pool.submit(() -> check(m.classify(texts.get(1)).probs[1] == first.probs[1], "thread result"));
            }
            for (Future<?> f : jobs) {
                f.get();
            }
            pool.shutdown();

        }

        try (Model e = Model.open(minilm)) {
            float[] v = e.embed("A gem of a film.");
            double norm = 0;
            for (float x : v) {
                norm += x * x;
            }
            check(v.length == 384 && Math.abs(norm - 1) < 1e-4, "embedding length " + v.length + ", norm " + norm);
            check(e.labels().length == 0, "an embedding model has no labels");
            expectError(EdgebertException.UNSUPPORTED, "no classification head", "classify with an embedding model", () -> e.classify("x"));
        }

        // By fd + offset + length, as an Android app opens an APK asset: the blob after 100 bytes.
        byte[] blob = Files.readAllBytes(Path.of(sentiment));
        File packed = File.createTempFile("edgebert-jni", ".bin");
        packed.deleteOnExit();
        try (RandomAccessFile raf = new RandomAccessFile(packed, "rw")) {
            raf.write(new byte[100]);
            raf.write(blob);
        }
        try (FileInputStream in = new FileInputStream(packed)) {
            int fd = fdOf(in);
            try (Model byFd = Model.openFd(fd, 100, blob.length); Model byPath = Model.open(sentiment)) {
                check(byFd.classify(texts.get(2)).probs[0] == byPath.classify(texts.get(2)).probs[0], "fd and path agree");
            }
            expectError(EdgebertException.INVALID_ARGUMENT, "multiple of 4", "openFd at an unaligned offset", () -> Model.openFd(fd, 101, blob.length));
            expectError(EdgebertException.IO, "past the file's end", "openFd past the end", () -> Model.openFd(fd, 100, blob.length + 1));
        }
        try (Model fromBytes = Model.fromBytes(blob)) {
            check(fromBytes.classify(texts.get(1)).label.equals("positive"), "fromBytes classifies");
        }

        // Errors arrive as exceptions with the engine's message.
        expectError(EdgebertException.IO, "/nonexistent/model.ebq", "open a missing file", () -> Model.open("/nonexistent/model.ebq"));
        File garbage = File.createTempFile("edgebert-garbage", ".ebq");
        garbage.deleteOnExit();
        Files.write(garbage.toPath(), "this is not a blob, just some text that is long enough to pass the header size check......".getBytes(StandardCharsets.UTF_8));
        expectError(EdgebertException.INVALID_BLOB, "not an edgebert blob", "open a garbage blob", () -> Model.open(garbage.getPath()));
        expectError(EdgebertException.INVALID_BLOB, "H1", "fromBytes of 10 bytes", () -> Model.fromBytes(new byte[10]));
        expectError(EdgebertException.NULL_POINTER, "path is null", "open(null)", () -> Model.open(null));
        Model closed = Model.open(sentiment);
        expectError(EdgebertException.NULL_POINTER, "text is null", "classify(null)", () -> closed.classify(null));
        closed.close();
        closed.close(); // idempotent
        try {
            closed.classify("x");
            throw new AssertionError("classify after close did not throw");
        } catch (IllegalStateException expected1) {
            checks++;
        }
        System.out.println("PASS: " + checks + " checks");
    }

    /**
     * The int descriptor behind a FileInputStream (Android: ParcelFileDescriptor.getFd()); needs
     * {@code --add-opens java.base/java.io=ALL-UNNAMED} on a desktop JVM.
     */
    private static int fdOf(FileInputStream in) throws Exception {
        java.lang.reflect.Field f = java.io.FileDescriptor.class.getDeclaredField("fd");
        f.setAccessible(true);
        return f.getInt(in.getFD());
    }
}
