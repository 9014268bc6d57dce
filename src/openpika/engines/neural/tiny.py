"""Tiny random-weight models of the real pipeline classes, for tests and offline demos.

``build_tiny_models(dir)`` writes, in diffusers' ``save_pretrained`` format, one folder per default
model name (so the production registry and loader find them exactly as they would real weights),
tiny LoRA files in the Wan-native key format, and an ``openpika-models.json`` that shrinks every
route to tiny sizes and 2 steps. Nothing is downloaded: the tokenizer is built with the tokenizers
library and every component is constructed from a config (recipes from diffusers' own tests, see
shared/neural-notes.md §6). The whole set is ~3 MB and builds in a few seconds on a CPU.

Output is noise, by design: it proves the loading, calling and resampling code, not the pictures.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from .registry import CONFIG_FILE_NAME

_VOCABULARY = (
    "a the of and in on with to is it its then video opens camera slow dolly out cat dog person "
    "squish sq41sh inflate infl4t3 cake c4k3 cakeify knife cutting hands press smooth cinematic "
    "transition lighthouse cliff dusk waves ugly bad terrible subject object scene add swap replace "
    "into from by at as image frame turbo noise red blue green"
)

# Every tiny route runs 2 steps with short prompts (the tiny text encoder is 32 wide).
TINY_ROUTE_PARAMS: dict[str, Any] = {"steps": 2, "call_kwargs": {"max_sequence_length": 16}}


def _diffusers() -> Any:
    """diffusers, typed loosely: its lazy module confuses static checkers."""
    return importlib.import_module("diffusers")


def _tokenizer() -> Any:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for word in _VOCABULARY.split():
        vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=512
    )


def _umt5(vocab_size: int) -> Any:
    from transformers import UMT5Config, UMT5EncoderModel

    cfg = UMT5Config(
        vocab_size=vocab_size,
        d_model=32,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        dropout_rate=0.0,
    )
    return UMT5EncoderModel(cfg).eval()


def _wan_vae(ti2v: bool = False) -> Any:
    diffusers = _diffusers()

    if ti2v:
        return diffusers.AutoencoderKLWan(
            base_dim=3,
            z_dim=48,
            in_channels=12,
            out_channels=12,
            is_residual=True,
            patch_size=2,
            latents_mean=[0.0] * 48,
            latents_std=[1.0] * 48,
            dim_mult=[1, 1, 1, 1],
            num_res_blocks=1,
            scale_factor_spatial=16,
            scale_factor_temporal=4,
            temperal_downsample=[False, True, True],
        ).eval()
    return diffusers.AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    ).eval()


# The tiny Wan transformer's shape (diffusers' own tests); VACE adds its control layers to it.
_WAN_TRANSFORMER: dict[str, Any] = dict(
    patch_size=(1, 2, 2),
    num_attention_heads=2,
    attention_head_dim=12,
    in_channels=16,
    out_channels=16,
    text_dim=32,
    freq_dim=256,
    ffn_dim=32,
    num_layers=2,
    cross_attn_norm=True,
    qk_norm="rms_norm_across_heads",
    rope_max_seq_len=32,
)


def _wan_transformer(**overrides: Any) -> Any:
    return _diffusers().WanTransformer3DModel(**{**_WAN_TRANSFORMER, **overrides}).eval()


def _clip(image_size: int) -> tuple[Any, Any]:
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    enc = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=4,
            projection_dim=4,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=image_size,
            intermediate_size=16,
            patch_size=1,
        )
    ).eval()
    return enc, CLIPImageProcessor(crop_size=image_size, size=image_size)


def _flow_scheduler() -> Any:
    diffusers = _diffusers()

    return diffusers.FlowMatchEulerDiscreteScheduler(shift=7.0)


def _unipc() -> Any:
    diffusers = _diffusers()

    return diffusers.UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0
    )


def build_ti2v(path: Path) -> None:
    """Wan2.2 TI2V-5B shape: 48-channel VAE, no image encoder, expand_timesteps (saved as WanPipeline,
    as the real repo is)."""
    diffusers = _diffusers()

    tok = _tokenizer()
    diffusers.WanPipeline(
        tokenizer=tok,
        text_encoder=_umt5(len(tok)),
        vae=_wan_vae(ti2v=True),
        scheduler=_unipc(),
        transformer=_wan_transformer(in_channels=48, out_channels=48),
        expand_timesteps=True,
    ).save_pretrained(path)


def build_wan21_i2v(path: Path, *, flf2v: bool = False) -> None:
    """Wan2.1 I2V (CLIP image branch, with its own K/V projections as in the real model, so effect
    LoRAs' k_img/v_img keys land), or FLF2V (the same plus a learned position table)."""
    diffusers = _diffusers()

    tok = _tokenizer()
    image_size = 4 if flf2v else 32
    encoder, processor = _clip(image_size)
    extra: dict[str, Any] = {"pos_embed_seq_len": 2 * (image_size * image_size + 1)} if flf2v else {}
    diffusers.WanImageToVideoPipeline(
        tokenizer=tok,
        text_encoder=_umt5(len(tok)),
        vae=_wan_vae(),
        scheduler=_flow_scheduler(),
        image_processor=processor,
        image_encoder=encoder,
        transformer=_wan_transformer(in_channels=36, image_dim=4, added_kv_proj_dim=24, **extra),
    ).save_pretrained(path)


def build_vace(path: Path) -> None:
    diffusers = _diffusers()

    tok = _tokenizer()
    transformer = diffusers.WanVACETransformer3DModel(
        **{**_WAN_TRANSFORMER, "num_layers": 3},
        vace_layers=[0, 2],
        vace_in_channels=96,
    ).eval()
    diffusers.WanVACEPipeline(
        tokenizer=tok,
        text_encoder=_umt5(len(tok)),
        vae=_wan_vae(),
        scheduler=_flow_scheduler(),
        transformer=transformer,
    ).save_pretrained(path)


def build_ltx_condition(path: Path) -> None:
    diffusers = _diffusers()
    from transformers import T5Config, T5EncoderModel

    tok = _tokenizer()
    text_encoder = T5EncoderModel(
        T5Config(
            vocab_size=len(tok),
            d_model=32,
            d_kv=8,
            d_ff=37,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
            dropout_rate=0.0,
        )
    ).eval()
    transformer = diffusers.LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    ).eval()
    vae = diffusers.AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False),
        upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    ).eval()
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    diffusers.LTXConditionPipeline(
        scheduler=diffusers.FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tok,
        transformer=transformer,
    ).save_pretrained(path)


def write_tiny_wan_lora(
    path: Path, *, num_layers: int = 2, dim: int = 24, ffn_dim: int = 32, seed: int = 0
) -> None:
    """A LoRA in the Wan-native (ComfyUI / Remade) key format, with the CLIP-branch k_img/v_img keys,
    as published effect LoRAs are. Large enough weights that the effect on the output is visible."""
    import torch
    from safetensors.torch import save_file

    gen = torch.Generator().manual_seed(seed)
    rank = 4
    state: dict[str, torch.Tensor] = {}

    def add(key: str, in_dim: int, out_dim: int) -> None:
        state[f"{key}.lora_down.weight"] = torch.randn(rank, in_dim, generator=gen)
        state[f"{key}.lora_up.weight"] = torch.randn(out_dim, rank, generator=gen)
        state[f"{key}.alpha"] = torch.tensor(float(rank))

    for block in range(num_layers):
        prefix = f"diffusion_model.blocks.{block}"
        for proj in ("q", "k", "v", "o"):
            add(f"{prefix}.self_attn.{proj}", dim, dim)
            add(f"{prefix}.cross_attn.{proj}", dim, dim)
        for proj in ("k_img", "v_img"):
            add(f"{prefix}.cross_attn.{proj}", dim, dim)
        add(f"{prefix}.ffn.0", dim, ffn_dim)
        add(f"{prefix}.ffn.2", ffn_dim, dim)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path))


def tiny_config(*, with_ltx: bool = True) -> dict[str, Any]:
    """The ``openpika-models.json`` for the tiny set: tiny native formats and 2 steps per route."""

    def native(width: int, height: int, frames: int, max_frames: int) -> dict[str, int]:
        return {
            "native_width": width,
            "native_height": height,
            "num_frames": frames,
            "max_frames": max_frames,
        }

    config: dict[str, Any] = {
        "models": {
            "wan2.2-ti2v-5b": native(64, 32, 9, 9),
            "fastwan2.2-ti2v-5b": native(64, 32, 9, 9),
            "wan2.1-i2v-480p": native(48, 32, 9, 9),
            "wan2.1-flf2v": native(48, 32, 9, 9),
            "wan2.1-vace": native(48, 32, 9, 17),
            "ltx-video-0.9.7-distilled": native(64, 32, 9, 17),
        },
        "route_defaults": TINY_ROUTE_PARAMS,
    }
    if with_ltx:
        config["routes"] = {"pikaframes/single-prompt": {}}
    return config


def build_tiny_models(models_dir: Path, *, with_ltx: bool = True, with_turbo: bool = True) -> Path:
    """Write the tiny model set into ``models_dir`` (created) and return it."""
    import torch

    torch.manual_seed(0)  # the random weights themselves are reproducible
    models_dir.mkdir(parents=True, exist_ok=True)
    build_ti2v(models_dir / "wan2.2-ti2v-5b")
    if with_turbo:
        torch.manual_seed(1)
        build_ti2v(models_dir / "fastwan2.2-ti2v-5b")
    build_wan21_i2v(models_dir / "wan2.1-i2v-480p")
    build_wan21_i2v(models_dir / "wan2.1-flf2v", flf2v=True)
    build_vace(models_dir / "wan2.1-vace")
    if with_ltx:
        build_ltx_condition(models_dir / "ltx-video-0.9.7-distilled")
    loras = models_dir / "loras"
    for seed, name in enumerate(("squish", "inflate", "cakeify", "crush", "deflate")):
        write_tiny_wan_lora(loras / f"{name}.safetensors", seed=seed + 10)
    (models_dir / CONFIG_FILE_NAME).write_text(json.dumps(tiny_config(with_ltx=with_ltx), indent=2))
    return models_dir
