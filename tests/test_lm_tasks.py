"""Task verifiers (right, wrong, malformed) and the character tokenizer. Run: pytest tests/test_lm_tasks.py"""

import numpy as np
import pytest

from sims.lm.tasks import ALPHABET, DIFFICULTY, Task, available_tasks
from sims.lm.tokenizer import char_tokenizer, check_tokenizer


@pytest.mark.parametrize(
    ("task", "prompt", "completion", "reward"),
    [
        ("addition", "47+38=", "85", 1.0),
        ("addition", "47+38=", " 85 ", 1.0),  # surrounding spaces are stripped
        ("addition", "47+38=", "84", 0.0),
        ("addition", "47+38=", "085", 1.0),  # same integer
        ("addition", "47+38=", "8,5", 0.0),
        ("addition", "47+38=", "", 0.0),
        ("addition", "999+1=", "1000", 1.0),
        ("sort", "S4,1,3=", "1,3,4", 1.0),
        ("sort", "S4,1,3=", "1,4,3", 0.0),
        ("sort", "S4,1,1=", "1,1,4", 1.0),
        ("sort", "S4,1,1=", "1,4", 0.0),  # a dropped duplicate
        ("sort", "S4,1,3=", "134", 0.0),
        ("sort", "S4,1,3=", "1,3,4,", 0.0),
        ("countdown", "C3,5,7>22=", "3*5+7", 1.0),
        ("countdown", "C3,5,7>22=", "7+5*3", 1.0),  # another right answer (precedence: 7 + 15)
        ("countdown", "C3,5,7>22=", "7+3*5", 1.0),
        ("countdown", "C3,5,7>22=", "3*5+5+2", 0.0),  # 5 used twice, 2 not given
        ("countdown", "C3,5,7>22=", "22", 0.0),  # the target is not a given number
        ("countdown", "C3,5,7>22=", "3*5-7", 0.0),  # = 8
        ("countdown", "C3,5,7>22=", "3**5", 0.0),  # malformed (and would be 243)
        ("countdown", "C3,5,7>22=", "3*5+7=", 0.0),
        ("countdown", "C3,5,7>22=", "", 0.0),
        ("countdown", "C2,9,4>13=", "9+4", 1.0),  # a number may stay unused
    ],
)
def test_verifiers_literal_table(task, prompt, completion, reward):
    assert Task(task, 3).reward(prompt, completion) == reward


@pytest.mark.parametrize("name", available_tasks())
def test_sampled_reference_answers_are_right_and_prompts_have_equal_length(name):
    lo, hi = DIFFICULTY[name]
    for d in (lo, hi):
        task = Task(name, d)
        pairs = task.batch(np.random.default_rng(1), 50)
        assert all(task.reward(p, a) == 1.0 for p, a in pairs)
        assert len({len(p) for p, _ in pairs}) == 1  # the rollout needs no padding
        assert all(len(a) + 1 <= task.max_new_tokens for _, a in pairs)
        assert set("".join(p + a for p, a in pairs)) <= set(ALPHABET)
        wrong = [(p, a[:-1] + ("0" if a[-1] != "0" else "1")) for p, a in pairs if name != "countdown"]
        assert all(task.reward(p, a) == 0.0 for p, a in wrong)


def test_difficulty_sets_the_size():
    p, a = Task("addition", 4).sample(np.random.default_rng(0))
    assert len(p) == 4 + 1 + 4 + 1 and 4 <= len(a) <= 5
    p, a = Task("sort", 5).sample(np.random.default_rng(0))
    assert len(a.split(",")) == 5


def test_bad_task_and_difficulty_name_the_fix():
    with pytest.raises(ValueError, match="unknown task 'mult'; valid: addition, sort, countdown"):
        Task("mult", 2)
    with pytest.raises(ValueError, match=r"difficulty must be in \[2, 4\], got 9"):
        Task("countdown", 9)


def test_tokenizer_round_trip_one_token_per_character():
    tok = char_tokenizer()
    text = "C3,5,7>22=3*5+7"
    ids = tok.encode(text, add_special_tokens=False)
    assert len(ids) == len(text)
    assert tok.decode(ids) == text
    assert len(tok) == 4 + len(ALPHABET)
    assert [tok.pad_token_id, tok.bos_token_id, tok.eos_token_id, tok.unk_token_id] == [0, 1, 2, 3]
    assert tok.decode([tok.bos_token_id, *ids, tok.eos_token_id], skip_special_tokens=True) == text
    check_tokenizer(tok)  # covers the whole alphabet


def test_tokenizer_save_and_load(tmp_path):
    from transformers import AutoTokenizer

    char_tokenizer().save_pretrained(tmp_path)
    tok = AutoTokenizer.from_pretrained(tmp_path, local_files_only=True)
    assert tok.encode("12+34=", add_special_tokens=False) == char_tokenizer().encode("12+34=", add_special_tokens=False)


def test_tokenizer_missing_characters_is_a_clear_error():
    tok = char_tokenizer(alphabet="0123456789+=")
    with pytest.raises(ValueError, match=r"cannot encode the task characters '-\*,>SC'"):
        check_tokenizer(tok)
