package dev.substrate.benchmarks;

import dev.substrate.event.EventValidator;
import dev.substrate.event.WireCodec;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.run.RunEvent;
import dev.substrate.testing.SampleEvents;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost per event of the wire format and the door checks: encode, decode and validate, for the largest run
 * event ({@code RunCreated}, fully populated) and the most frequent room event (a {@code TextDelta} of 64
 * characters). Run with {@code java -jar substrate-benchmarks/target/benchmarks.jar EventCodec}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class EventCodecBenchmark {

    private final EventValidator validator = new EventValidator();
    private RunEvent runCreated;
    private RoomEvent textDelta;
    private byte[] runCreatedBytes;
    private byte[] textDeltaBytes;

    @Setup
    public void setUp() {
        runCreated = SampleEvents.runEvent(
                "run-benchmark", SampleEvents.runPayloads().get(0));
        textDelta = SampleEvents.roomEvent("room-benchmark", new TextDelta("block-1", "x".repeat(64)));
        runCreatedBytes = WireCodec.RUN.encode(runCreated);
        textDeltaBytes = WireCodec.ROOM.encode(textDelta);
    }

    @Benchmark
    public byte[] encodeRunCreated() {
        return WireCodec.RUN.encode(runCreated);
    }

    @Benchmark
    public RunEvent decodeRunCreated() {
        return WireCodec.RUN.decode(runCreatedBytes);
    }

    @Benchmark
    public byte[] encodeTextDelta() {
        return WireCodec.ROOM.encode(textDelta);
    }

    @Benchmark
    public RoomEvent decodeTextDelta() {
        return WireCodec.ROOM.decode(textDeltaBytes);
    }

    @Benchmark
    public RunEvent validateRunCreated() {
        validator.validate(runCreated);
        return runCreated;
    }

    @Benchmark
    public RoomEvent validateTextDelta() {
        validator.validate(textDelta);
        return textDelta;
    }
}
