package dev.edgebert;

/**
 * A failed edgebert call: the engine's message (naming the file or the problem) and its status
 * code, one of the {@code EDGEBERT_E_*} values of {@code edgebert.h} (for example {@link #IO} for
 * a missing file, {@link #INVALID_BLOB} for bytes that are not a blob).
 */
public final class EdgebertException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public static final int NULL_POINTER = -1;
    public static final int INVALID_UTF8 = -2;
    public static final int BUFFER_TOO_SMALL = -3;
    public static final int BAD_HANDLE = -4;
    public static final int IO = -5;
    public static final int INVALID_BLOB = -6;
    public static final int INVALID_ARGUMENT = -7;
    public static final int UNSUPPORTED = -8;
    public static final int INPUT = -9;
    public static final int BUSY = -10;
    public static final int INTERNAL = -11;

    private final int code;

    /** Called from the native library. */
    public EdgebertException(int code, String message) {
        super(message);
        this.code = code;
    }

    /** The status code ({@code EDGEBERT_E_*}). */
    public int code() {
        return code;
    }
}
