"""The stored-embeddings file of the tests and the centring of the model's vectors."""

from __future__ import annotations

import numpy as np

from core.matching.semantic import DIM, StoredEncoder, centred, text_key


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


def test_one_text_waits_for_one_run_of_a_long_batch_not_for_all_of_it():
    import threading
    import time

    from core.matching.semantic import MODEL_RUN, SentenceEncoder

    class SlowModel:
        """Stands in for the loaded model: each run takes a while."""

        def query(self, texts):
            time.sleep(0.05)
            return CountingEncoder().encode(texts)

    encoder = SentenceEncoder()
    encoder._model = SlowModel()
    finished: dict[str, float] = {}

    def encode(name: str, count: int) -> None:
        encoder.encode([name] * count)
        finished[name] = time.perf_counter()

    batch = threading.Thread(target=encode, args=("import", 6 * MODEL_RUN))
    batch.start()
    time.sleep(0.02)  # the batch's first run is under way
    encode("post", 1)
    batch.join()
    assert finished["post"] < finished["import"]
