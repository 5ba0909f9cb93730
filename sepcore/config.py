"""Training configuration: built-in defaults ← YAML file ← ``--section.key value`` overrides.

Override values are parsed as YAML scalars (``--optim.lr 3e-4``, ``--data.dynamic_mixing
true``, ``--model.norm cLN``). Every key must already exist in the defaults or the file,
so a typo is an error naming it instead of a silently ignored setting. The ``model``
section is free-form (its keys are checked by the model itself).
"""

from __future__ import annotations

import copy
import os
import re

import yaml

from sepcore.errors import ConfigError

DEFAULTS: dict = {
    "model": {"name": "convtasnet"},
    # the keys of every dataset; the chosen data.dataset adds its own (sepcore/data/registry.py)
    "data": {
        "dataset": "segment",
        "sample_rate": None,  # null: the training data's rate (the recipe's data decides it)
        "num_workers": 0,
        "valid_max_seconds": None,
    },
    "training": {
        "batch_size": 4,
        "max_epochs": 200,
        # stop after this many optimizer steps: the same run on any machine
        "max_steps": None,
        "max_minutes": None,  # wall-time budget of training + validation (across resumes)
        "seed": 0,
        "num_threads": None,
        "log_interval": 20,
        "checkpoint_minutes": 5.0,
        # e.g. 0.999: validate, select and save an exponential moving average of the
        # weights (sepcore/train/ema.py) instead of the raw weights; null: off
        "ema_decay": None,
        # at every validation, save the estimates of this many fixed validation utterances
        # under exp/<tag>/examples/step<k>/ (sepcore/report/monitor.py); 0: off
        "examples": 0,
        # write scalars and the examples as TensorBoard events under exp/<tag>/tensorboard/
        # (needs the optional tensorboard package)
        "tensorboard": False,
        # fp32 | bf16: bfloat16 autocast of the training forward pass where the CPU/GPU
        # multiplies bfloat16 natively (AMX / AVX-512 BF16), float32 with a warning
        # elsewhere (sepcore/precision.py); validation always runs in float32
        "precision": "fp32",
    },
    "optim": {
        "name": "adam",
        "lr": 1e-3,
        "weight_decay": 0.0,
        "clip_grad_norm": 5.0,
        "accum_grad": 1,
        "warmup_steps": 0,
    },
    # plateau: halve after `patience` epochs without improvement; cosine: optim.lr for the
    # first hold_fraction of training.max_steps, then a cosine decay to min_lr at the last
    # step; cosine_time: the same over training.max_minutes (ends annealed whenever time is up)
    "scheduler": {"name": "plateau", "factor": 0.5, "patience": 5, "min_lr": 1e-8,
                  "hold_fraction": 0.0},
    "early_stop": {"patience": 30},
    # at separation, the parametric Wiener post-filter of a one-source (enhancement) model
    # (sepcore/spectral/postfilter.py): beta over-suppresses what the residual (input minus
    # estimate) shares with the estimate, residual puts that share of it back before the
    # gain, power 1 weighs magnitudes (2: powers); sepcore-separate --postfilter overrides
    # enabled
    "postfilter": {"enabled": False, "beta": 3.0, "power": 1.0, "residual": 0.5,
                   "n_fft": 1024, "hop_length": 256},
    # pit: true: each example's estimates are matched to its references by the best
    # permutation (training and validation), and chunked separation aligns the sources of
    # neighbouring chunks; false: estimate k is trained for reference k (named stems).
    # name: si_sdr | mrstft | si_sdr+mrstft (-SI-SDR + mrstft_weight * MR-STFT); the
    # MR-STFT resolutions default to Yamamoto et al. 2020's (sepcore/losses/mrstft.py);
    # with pit false also sdr (MDX SDR), mag_mse (STFT magnitudes: n_fft, hop_length), l1
    # and sums such as mag_mse+sdr with one weight per term (weights)
    "loss": {"name": "si_sdr", "pit": True, "mrstft_weight": 1.0,
             "mrstft_fft_sizes": [1024, 2048, 512], "mrstft_hops": [120, 240, 50],
             "mrstft_win_lengths": [600, 1200, 240], "n_fft": 4096, "hop_length": 1024,
             "weights": None},
}

FREE_FORM_SECTIONS = {"model"}


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-3`` as a float (YAML 1.1 wants ``1.0e-3``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def _yaml_load(text):
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
# copied into model.pt's info; residual_name: what sepcore-separate calls the input minus a
# one-source model's estimate (egs/custom: the interference folder's name)
TOP_LEVEL_INFO_KEYS = {"corpus", "task", "license", "description", "residual_name"}


def _merge(base: dict, update: dict, where: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in update.items():
        path = f"{where}.{key}" if where else key
        if not where and key in TOP_LEVEL_INFO_KEYS:
            out[key] = value
            continue
        if key not in out and where.split(".")[0] not in FREE_FORM_SECTIONS:
            raise ConfigError(f"unknown config key {path!r}")
        if isinstance(out.get(key), dict):
            if not isinstance(value, dict):
                raise ConfigError(f"config key {path!r} must be a mapping, got {value!r}")
            out[key] = _merge(out[key], value, path)
        else:
            out[key] = value
    return out


def parse_overrides(args: list[str]) -> dict:
    """``["--optim.lr", "1e-3", "--model.N=64"]`` → nested dict; the top-level info keys
    (``--description "..."``) take no section."""
    out: dict = {}
    i = 0
    while i < len(args):
        arg = args[i]
        top = arg[2:].split("=", 1)[0].replace("-", "_") in TOP_LEVEL_INFO_KEYS
        if not arg.startswith("--") or ("." not in arg and not top):
            raise ConfigError(f"expected an override '--section.key value' (or --"
                              f"{' / --'.join(sorted(TOP_LEVEL_INFO_KEYS))}), got {arg!r}")
        if "=" in arg:
            key, raw = arg[2:].split("=", 1)
            i += 1
        else:
            if i + 1 >= len(args):
                raise ConfigError(f"override {arg} has no value")
            key, raw = arg[2:], args[i + 1]
            i += 2
        try:
            value = _yaml_load(raw)
        except yaml.YAMLError:
            value = raw
        node = out
        parts = key.replace("-", "_").split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def load_yaml(path: str | os.PathLike) -> dict:
    """A YAML config file as a dict; errors name ``file:line`` (bad bytes, bad YAML)."""
    from sepcore.errors import DataError
    from sepcore.io.scp import read_lines

    try:
        text = "\n".join(line for _, line in read_lines(path))
    except DataError as e:
        if not os.path.isfile(path):
            raise ConfigError(f"{path}: config file not found") from None
        raise ConfigError(str(e)) from None
    try:
        data = _yaml_load(text) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        ctx, ctx_mark = getattr(e, "context", None), getattr(e, "context_mark", None)
        if ctx and ctx_mark is not None and mark is not None and ctx_mark.line != mark.line:
            ctx = f"{ctx} from line {ctx_mark.line + 1}"
        what = "; ".join(str(x) for x in (getattr(e, "problem", None), ctx) if x) or str(e)
        raise ConfigError(f"{where}: invalid YAML ({what})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return data


def load_config(path: str | os.PathLike | None, overrides: list[str] | None = None) -> dict:
    """Defaults ← the YAML file ← overrides, checked by :func:`validate_config`."""
    from sepcore.data.registry import dataset_spec

    file_cfg = {} if path is None else load_yaml(path)
    over = parse_overrides(overrides or [])
    # the chosen dataset decides which data.* keys exist, so find it first
    name = DEFAULTS["data"]["dataset"]
    for layer in (file_cfg, over):
        data = layer.get("data")
        if isinstance(data, dict) and data.get("dataset") is not None:
            name = data["dataset"]
    cfg = copy.deepcopy(DEFAULTS)
    try:
        cfg["data"].update(copy.deepcopy(dataset_spec(str(name)).defaults))
        cfg = _merge(cfg, file_cfg, "")
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}" if path is not None else str(e)) from None
    cfg = _merge(cfg, over, "")
    validate_config(cfg)
    return cfg


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)
            and v == v and v not in (float("inf"), float("-inf")))


def _rule(test, expected: str, nullable: bool = False):
    if nullable:
        return (lambda v: v is None or test(v)), f"null or {expected}"
    return test, expected


POS_INT = _rule(lambda v: _is_int(v) and v >= 1, "a positive integer")
NAT_INT = _rule(lambda v: _is_int(v) and v >= 0, "an integer >= 0")
POS_NUM = _rule(lambda v: _is_num(v) and v > 0, "a number > 0")
NAT_NUM = _rule(lambda v: _is_num(v) and v >= 0, "a number >= 0")
BOOL = _rule(lambda v: isinstance(v, bool), "true or false")

# The type and range of every value key of DEFAULTS and of the default dataset's keys
# (sepcore/data/registry.py); another dataset's own keys are checked by that dataset.
SCHEMA: dict[str, tuple] = {
    "data.sample_rate": _rule(POS_INT[0], POS_INT[1], nullable=True),
    "data.num_workers": NAT_INT,
    "data.valid_max_seconds": _rule(POS_NUM[0], POS_NUM[1], nullable=True),
    "data.segment": POS_NUM,
    "data.dynamic_mixing": BOOL,
    "data.mix_snr_range": NAT_NUM,
    "data.speed_perturb": _rule(lambda v: isinstance(v, list) and len(v) == 2
                                and all(_is_num(x) for x in v) and 0.5 <= v[0] <= v[1] <= 2,
                                "[low, high] speed factors with 0.5 <= low <= high <= 2",
                                nullable=True),
    "data.epoch_size": _rule(POS_INT[0], POS_INT[1], nullable=True),
    "training.batch_size": POS_INT,
    "training.max_epochs": POS_INT,
    "training.max_steps": _rule(POS_INT[0], POS_INT[1], nullable=True),
    "training.max_minutes": _rule(POS_NUM[0], POS_NUM[1], nullable=True),
    "training.seed": NAT_INT,
    "training.num_threads": _rule(NAT_INT[0], NAT_INT[1] + " (0: torch's default)",
                                  nullable=True),
    "training.log_interval": _rule(NAT_INT[0], NAT_INT[1] + " (0: off)"),
    "training.checkpoint_minutes": _rule(NAT_NUM[0], NAT_NUM[1] + " (0: every step)",
                                         nullable=True),
    "training.precision": _rule(lambda v: v in ("fp32", "bf16"), "'fp32' or 'bf16'"),
    "postfilter.enabled": BOOL,
    "postfilter.beta": POS_NUM,
    "postfilter.power": POS_NUM,
    "postfilter.residual": _rule(lambda v: _is_num(v) and 0 <= v <= 1, "a number in [0, 1]"),
    "postfilter.n_fft": POS_INT,
    "postfilter.hop_length": POS_INT,
    "optim.lr": POS_NUM,
    "optim.weight_decay": NAT_NUM,
    "optim.clip_grad_norm": _rule(NAT_NUM[0], NAT_NUM[1] + " (0: off)", nullable=True),
    "optim.accum_grad": POS_INT,
    "optim.warmup_steps": NAT_INT,
    "scheduler.factor": _rule(lambda v: _is_num(v) and 0 < v < 1, "a number in (0, 1)"),
    "scheduler.patience": NAT_INT,
    "scheduler.min_lr": NAT_NUM,
    "early_stop.patience": _rule(NAT_INT[0], NAT_INT[1] + " (0: off)", nullable=True),
    # the spectrogram losses' STFT (mag_mse) and the weights of a sum of losses (a+b)
    "loss.n_fft": POS_INT,
    "loss.hop_length": POS_INT,
    "loss.weights": _rule(lambda v: isinstance(v, list) and all(_is_num(w) and w >= 0
                                                                for w in v),
                          "a list of numbers >= 0", nullable=True),
}


def check_schema(cfg: dict) -> None:
    """Each value of :data:`SCHEMA` present in ``cfg`` has its type and range."""
    for key, (test, expected) in SCHEMA.items():
        section, name = key.split(".")
        node = cfg.get(section)
        if isinstance(node, dict) and name in node:
            _check(test(node[name]), key, expected, node[name])


def _check(ok: bool, key: str, expected: str, value) -> None:
    if not ok:
        raise ConfigError(f"{key} must be {expected}, got {value!r}")


POSTFILTER_SETTINGS = ("beta", "power", "residual", "n_fft", "hop_length")


def postfilter_settings(cfg: dict) -> dict:
    """The settings of a ``postfilter`` section (sepcore/spectral/postfilter.py) as numbers,
    checked by :data:`SCHEMA`; ConfigError naming the key."""
    missing = [k for k in POSTFILTER_SETTINGS if k not in cfg]
    if missing:
        raise ConfigError(f"postfilter: no {', '.join(missing)}")
    check_schema({"postfilter": cfg})
    out = {k: (int(cfg[k]) if k in ("n_fft", "hop_length") else float(cfg[k]))
           for k in POSTFILTER_SETTINGS}
    if out["hop_length"] > out["n_fft"] // 2:
        raise ConfigError(f"postfilter.hop_length must be at most n_fft / 2 "
                          f"({out['n_fft'] // 2}), got {out['hop_length']}")
    return out


def _check_postfilter(cfg: dict) -> None:
    postfilter_settings(cfg["postfilter"])
    sources = cfg["model"].get("num_sources")
    if cfg["postfilter"]["enabled"] and sources != 1:
        raise ConfigError(f"postfilter.enabled true is for one-source (enhancement) models; "
                          f"model.num_sources is {sources!r} (expected 1)")


def validate_config(cfg: dict) -> None:
    """Every check of the values of a training config, in one place (ConfigError naming
    the key, what was expected and what was given). Keys themselves are checked by the
    merge (an unknown key is an error); the model's keys by the model."""
    from sepcore.losses import build_criterion

    check_schema(cfg)
    _check_postfilter(cfg)
    t, o, s = cfg["training"], cfg["optim"], cfg["scheduler"]
    decay = t["ema_decay"]
    _check(decay is None or (isinstance(decay, float) and 0.0 < decay < 1.0),
           "training.ema_decay", "null or a number in (0, 1)", decay)
    ex = t["examples"]
    _check(isinstance(ex, int) and not isinstance(ex, bool) and ex >= 0, "training.examples",
           "a number of validation utterances >= 0", ex)
    _check(isinstance(t["tensorboard"], bool), "training.tensorboard", "true or false",
           t["tensorboard"])
    _check(o["name"] == "adam", "optim.name", "'adam' (the only optimizer)", o["name"])
    _check(s["name"] in ("plateau", "cosine", "cosine_time"), "scheduler.name",
           "'plateau', 'cosine' or 'cosine_time'", s["name"])
    if s["name"] == "cosine" and not t["max_steps"]:
        raise ConfigError("scheduler.name cosine needs a number of steps, training.max_steps")
    if s["name"] == "cosine_time" and not t["max_minutes"]:
        raise ConfigError("scheduler.name cosine_time needs a training.max_minutes budget")
    hold = s["hold_fraction"]
    _check(isinstance(hold, (int, float)) and not isinstance(hold, bool) and 0.0 <= hold < 1.0,
           "scheduler.hold_fraction", "in [0, 1)", hold)
    _check(isinstance(cfg["loss"]["pit"], bool), "loss.pit", "true or false",
           cfg["loss"]["pit"])
    build_criterion(cfg["loss"])  # loss.name with loss.pit, weights, STFT sizes
    name = cfg.get("residual_name")
    _check(name is None or (isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9._-]+", name)),
           "residual_name", "a name of letters, digits, '.', '_' or '-'", name)


def dump_config(cfg: dict) -> str:
    return yaml.safe_dump(cfg, sort_keys=False, default_flow_style=False)
