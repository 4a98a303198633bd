#!/usr/bin/env python3
"""PyTorch peer of bench/peer-pytorch.ts: trains the same GPT-Neo or Llama, from the same initial weights, on the
same batches in the same order, with the same AdamW settings, learning rates and gradient clipping, then scores
the same held-out windows. Plain fp32 on the CPU, as our engine runs.

Usage: python3 pytorch_train.py <dir> <steps> <threads> <lrs.json>
<dir> holds what the TypeScript side wrote: config.json (resolved model + optimizer settings), init.safetensors
(HF tensor names), train.bin (int32, steps x B x (T+1)), val.bin (int32, windows x (T+1)).
Prints one JSON line: steps, seconds (the step loop only), tokens_per_s, val_loss, losses and elapsed seconds (per step).
"""
import json
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        assert meta["dtype"] == "F32", f"{name}: {meta['dtype']}"
        a, b = meta["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").copy().reshape(meta["shape"]))
    return out


def causal_mask(T, window):
    i = torch.arange(T).view(T, 1)
    j = torch.arange(T).view(1, T)
    ok = j <= i
    if window > 0:
        ok = ok & (j > i - window)
    return ok


def attention(q, k, v, scale, mask):
    # q (B, NH, T, HS); k, v (B, NH, T, HS)
    att = (q @ k.transpose(-1, -2)) * scale
    att = att.masked_fill(~mask, float("-inf"))
    return F.softmax(att, dim=-1) @ v


def rope(x, theta):
    # Hugging Face rotate-half: pairs (i, i + HS/2), frequency theta^(-2i/HS); x (B, H, T, HS)
    T, HS = x.shape[-2], x.shape[-1]
    half = HS // 2
    freq = theta ** (-2.0 * torch.arange(half, dtype=torch.float64) / HS)
    ang = torch.arange(T, dtype=torch.float64).view(T, 1) * freq.view(1, half)
    cos, sin = torch.cos(ang).float(), torch.sin(ang).float()
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


def forward(P, c, x, masks):
    B, T = x.shape
    C, NH, NKV, HS = c["dim"], c["nHeads"], c["nKvHeads"], c["headSize"]
    neo = c["arch"] == "gpt-neo"
    if neo:
        emb = P["transformer.wte.weight"]
        h = emb[x] + P["transformer.wpe.weight"][:T]
    else:
        emb = P["model.embed_tokens.weight"]
        h = emb[x]
    eps = c["normEps"]

    def rms(t, w):
        return t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + eps) * w

    for l in range(c["nLayers"]):
        if neo:
            p = f"transformer.h.{l}"
            a = F.layer_norm(h, (C,), P[p + ".ln_1.weight"], P[p + ".ln_1.bias"], eps)
            q = (a @ P[p + ".attn.attention.q_proj.weight"].T).view(B, T, NH, HS).transpose(1, 2)
            k = (a @ P[p + ".attn.attention.k_proj.weight"].T).view(B, T, NH, HS).transpose(1, 2)
            v = (a @ P[p + ".attn.attention.v_proj.weight"].T).view(B, T, NH, HS).transpose(1, 2)
            o = attention(q, k, v, c["attnScale"], masks[l]).transpose(1, 2).reshape(B, T, C)
            h = h + o @ P[p + ".attn.attention.out_proj.weight"].T + P[p + ".attn.attention.out_proj.bias"]
            m = F.layer_norm(h, (C,), P[p + ".ln_2.weight"], P[p + ".ln_2.bias"], eps)
            m = F.gelu(m @ P[p + ".mlp.c_fc.weight"].T + P[p + ".mlp.c_fc.bias"], approximate="tanh")
            h = h + m @ P[p + ".mlp.c_proj.weight"].T + P[p + ".mlp.c_proj.bias"]
        else:
            p = f"model.layers.{l}"
            a = rms(h, P[p + ".input_layernorm.weight"])
            q = rope((a @ P[p + ".self_attn.q_proj.weight"].T).view(B, T, NH, HS).transpose(1, 2), c["ropeTheta"])
            k = rope((a @ P[p + ".self_attn.k_proj.weight"].T).view(B, T, NKV, HS).transpose(1, 2), c["ropeTheta"])
            v = (a @ P[p + ".self_attn.v_proj.weight"].T).view(B, T, NKV, HS).transpose(1, 2)
            if NKV != NH:
                k = k.repeat_interleave(NH // NKV, dim=1)
                v = v.repeat_interleave(NH // NKV, dim=1)
            o = attention(q, k, v, c["attnScale"], masks[l]).transpose(1, 2).reshape(B, T, NH * HS)
            h = h + o @ P[p + ".self_attn.o_proj.weight"].T
            m = rms(h, P[p + ".post_attention_layernorm.weight"])
            m = F.silu(m @ P[p + ".mlp.gate_proj.weight"].T) * (m @ P[p + ".mlp.up_proj.weight"].T)
            h = h + m @ P[p + ".mlp.down_proj.weight"].T
    if neo:
        h = F.layer_norm(h, (C,), P["transformer.ln_f.weight"], P["transformer.ln_f.bias"], eps)
    else:
        h = rms(h, P["model.norm.weight"])
    head = P.get("lm_head.weight", emb)
    return h @ head.T


def main():
    d, steps, threads, lrs_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = json.load(open(f"{d}/config.json"))
    c, o = cfg["model"], cfg["optim"]
    B, T, V = cfg["B"], cfg["T"], c["vocabSize"]
    lrs = json.load(open(lrs_path))
    assert len(lrs) >= steps
    train = np.fromfile(f"{d}/train.bin", dtype="<i4").reshape(-1, B, T + 1)
    assert train.shape[0] >= steps, f"train.bin holds {train.shape[0]} steps, {steps} asked"
    val = torch.from_numpy(np.fromfile(f"{d}/val.bin", dtype="<i4").reshape(-1, T + 1).astype(np.int64))
    P = {k: t.requires_grad_() for k, t in read_safetensors(f"{d}/init.safetensors").items()}
    # Weight decay on matmul weights only: not embeddings, norms or biases (as our engine, and nanoGPT).
    emb_names = {"transformer.wte.weight", "transformer.wpe.weight", "model.embed_tokens.weight"}
    decay = [t for k, t in P.items() if t.dim() == 2 and (k not in emb_names or o["decayEmbeddings"])]
    no_decay = [t for k, t in P.items() if not (t.dim() == 2 and (k not in emb_names or o["decayEmbeddings"]))]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": o["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lrs[0], betas=(o["beta1"], o["beta2"]), eps=o["eps"],
    )
    masks = [causal_mask(T, w) for w in c["windows"]]
    params = list(P.values())
    losses = []
    elapsed = []  # seconds since the loop began, after each step (the bench takes a steady pace from a short run)
    t0 = time.perf_counter()
    for step in range(steps):
        batch = torch.from_numpy(train[step].astype(np.int64))
        x, y = batch[:, :T], batch[:, 1:]
        for g in opt.param_groups:
            g["lr"] = lrs[step]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(forward(P, c, x, masks).view(-1, V), y.reshape(-1))
        loss.backward()
        if o["gradClip"] > 0:
            torch.nn.utils.clip_grad_norm_(params, o["gradClip"])
        opt.step()
        losses.append(loss.item())
        elapsed.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - t0
    with torch.no_grad():
        total = 0.0
        for i in range(0, val.shape[0], B):
            w = val[i : i + B]
            total += F.cross_entropy(forward(P, c, w[:, :T], masks).view(-1, V), w[:, 1:].reshape(-1), reduction="sum").item()
        val_loss = total / (val.shape[0] * T)
    print(json.dumps({"steps": steps, "seconds": seconds, "tokens_per_s": steps * B * T / seconds if seconds > 0 else 0, "val_loss": val_loss, "losses": losses, "elapsed": elapsed, "torch": torch.__version__, "threads": threads}))


if __name__ == "__main__":
    main()
