"""The stored-embeddings file of the tests and the centring of the model's vectors."""

from __future__ import annotations

import numpy as np

from core.matching.semantic import CENTRE_PATH, DIM, StoredEncoder, centred, text_key


class CountingEncoder:
    """A deterministic stand-in for the model: one unit vector per text, counted."""

    def __init__(self, model_id: str = "model-a") -> None:
        self.model_id = model_id
        self.encoded: list[str] = []

    def encode(self, texts):
        self.encoded += texts
        rows = [np.random.default_rng(len(t)).standard_normal(DIM) for t in texts]
        return np.stack([r / np.linalg.norm(r) for r in rows]).astype(np.float32)


def test_a_file_of_another_model_is_not_used(tmp_path):
    path = tmp_path / "embeddings.npz"
    first = StoredEncoder(path, lambda: CountingEncoder("model-a"))
    first.encode(["Bürgerbus"])
    first.save()
    same = CountingEncoder("model-a")
    StoredEncoder(path, lambda: same).encode(["Bürgerbus"])
    assert same.encoded == []
    other = CountingEncoder("model-b")
    StoredEncoder(path, lambda: other).encode(["Bürgerbus"])
    assert other.encoded == ["Bürgerbus"]


def test_saves_of_parallel_workers_add_up(tmp_path):
    path = tmp_path / "embeddings.npz"
    one = StoredEncoder(path, CountingEncoder)
    two = StoredEncoder(path, CountingEncoder)
    one.encode(["Dorfladen"])
    two.encode(["Mitfahrbank"])
    one.save()
    two.save()
    with np.load(path) as data:
        assert set(data["keys"]) == {text_key("Dorfladen"), text_key("Mitfahrbank")}


def test_centred_vectors_are_unit_vectors_and_differ_from_the_model_s():
    raw = CountingEncoder().encode(["Dorfladen", "Mitfahrbank für Ältere"])
    shifted = centred(raw)
    assert np.allclose(np.linalg.norm(shifted, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(shifted, raw)


def _unit_rows(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_model_s_vectors_come_back_from_the_stored_ones():
    from core.matching.semantic import model_vectors_of

    common = np.load(CENTRE_PATH)
    rng = np.random.default_rng(7)
    # Model vectors at several angles to the common centre: the stored ones then lie at
    # clearly different angles to it, and only the right root gives the model's back.
    spread = rng.standard_normal((6, DIM)).astype(np.float32)
    model = _unit_rows(common + np.linspace(0.02, 0.2, 6)[:, None] * spread)
    stored = _unit_rows(model - common)
    assert np.abs(stored @ common).max() > 0.3
    assert np.abs(model_vectors_of(stored) - model).max() < 1e-4


def test_the_kind_centre_replaces_the_common_one_on_the_stored_vectors():
    from core.matching.semantic import KIND_CENTRES_PATH, kind_centred, quantize

    rng = np.random.default_rng(7)
    common = np.load(CENTRE_PATH)
    model = _unit_rows(common + 0.3 * rng.standard_normal((4, DIM)).astype(np.float32) / 20)
    stored = quantize(centred(model))
    kinds = ["offer", "request", "request", "offer"]
    own = np.load(KIND_CENTRES_PATH)[[0, 1, 1, 0]]
    expected = _unit_rows(model - own)
    got = kind_centred(stored, kinds).astype(np.float32) / 127
    assert np.abs((got * expected).sum(axis=1) - 1).max() < 0.01  # cosine with the exact one
    # The kinds' own centres differ from the common one: the vectors move.
    assert (np.abs((_unit_rows(stored.astype(np.float32)) * expected).sum(axis=1)) < 0.99).all()


def test_a_row_without_a_vector_stays_without_one():
    from core.matching.semantic import in_matching_space

    rows = np.zeros((2, DIM), dtype=np.int8)
    rows[1, :3] = (40, -20, 10)
    got = in_matching_space(rows, ["request", "offer"])
    assert not got[0].any() and got[1].any()


def test_requests_are_mapped_by_the_adapter_and_offers_are_not():
    from core.matching.semantic import REQUEST_ADAPTER_PATH, in_matching_space, kind_centred

    rng = np.random.default_rng(5)
    rows = rng.integers(-60, 60, (4, DIM)).astype(np.int8)
    kinds = ["offer", "request", "offer", "request"]
    centred_rows = kind_centred(rows, kinds).astype(np.float32) / 127
    got = in_matching_space(rows, kinds).astype(np.float32) / 127
    assert np.array_equal(got[[0, 2]], centred_rows[[0, 2]])
    expected = _unit_rows(centred_rows[[1, 3]] @ np.load(REQUEST_ADAPTER_PATH))
    assert np.abs((got[[1, 3]] * expected).sum(axis=1) - 1).max() < 0.01
    assert (np.abs((got[[1, 3]] * _unit_rows(centred_rows[[1, 3]])).sum(axis=1)) < 0.99).all()
    # An adapter given (the fitting tools try theirs) is used instead of the file's.
    identity = np.eye(DIM, dtype=np.float32)
    plain = in_matching_space(rows, kinds, adapter=identity).astype(np.float32) / 127
    assert np.abs(plain - centred_rows).max() <= 1 / 127


def test_the_engine_compares_vectors_in_the_matching_space():
    from core.matching import MatchEngine, PostDoc
    from core.matching.semantic import in_matching_space

    rng = np.random.default_rng(3)
    offer_vector = rng.integers(-60, 60, DIM).astype(np.int8)
    request_vector = (offer_vector + rng.integers(-30, 30, DIM)).astype(np.int8)  # related
    engine = MatchEngine()
    engine.upsert(PostDoc(1, "offer", "Mitfahrbank", "Bänke am Ortsausgang", vector=offer_vector))
    request = PostDoc(2, "request", "Ohne Auto", "ins Nachbardorf", vector=request_vector)
    [candidate] = engine.candidates(request, k=1, threshold=-1.0)
    both = in_matching_space(np.stack([offer_vector, request_vector]), ["offer", "request"])
    expected = float(_unit_rows(both.astype(np.float32)).prod(axis=0).sum())
    assert abs(candidate.cosine - expected) < 1e-3


def test_one_text_waits_for_one_run_of_a_long_batch_not_for_all_of_it():
    import threading

    from core.matching.semantic import MODEL_RUN, SentenceEncoder

    asked = threading.Event()  # the post has asked for its turn
    runs: list[list[str]] = []

    class HeldModel:
        """Stands in for the loaded model; its first run lasts until the post has asked."""

        def query(self, texts):
            if not runs:
                assert asked.wait(10)
            runs.append(list(texts))
            return CountingEncoder().encode(texts)

    encoder = SentenceEncoder()
    encoder._model = HeldModel()
    batch = threading.Thread(
        target=encoder.encode, args=(["import"] * (6 * MODEL_RUN),), daemon=True
    )
    batch.start()
    while not runs and not encoder._running._issued:  # the batch holds its first turn
        threading.Event().wait(0.001)
    post = threading.Thread(target=encoder.encode, args=(["post"],), daemon=True)
    post.start()
    while encoder._running._issued < 2:  # the post waits for its turn
        threading.Event().wait(0.001)
    asked.set()
    post.join(10)
    batch.join(10)
    assert not batch.is_alive() and not post.is_alive()
    assert runs[1] == ["post"] and len(runs) == 7


def test_an_interrupted_wait_does_not_block_the_turns_after_it():
    import threading

    from core.matching.semantic import Turns

    turns = Turns()
    wait_for = turns._changed.wait_for

    def interrupted_for_one_thread(predicate, timeout=None):
        if threading.current_thread().name == "interrupted":
            raise KeyboardInterrupt  # as Ctrl-C arrives in a waiting command
        return wait_for(predicate, timeout)

    turns._changed.wait_for = interrupted_for_one_thread
    seen = []

    def take_turn() -> None:
        try:
            with turns.turn():
                seen.append(threading.current_thread().name)
        except KeyboardInterrupt:
            seen.append("gave up")

    with turns.turn():
        gives_up = threading.Thread(target=take_turn, name="interrupted", daemon=True)
        gives_up.start()
        gives_up.join(10)
    later = threading.Thread(target=take_turn, name="later", daemon=True)
    later.start()
    later.join(10)
    assert seen == ["gave up", "later"]
