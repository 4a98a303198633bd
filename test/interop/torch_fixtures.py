# Writes small random GPT-Neo and Llama checkpoints in Hugging Face's real layout with PyTorch (torch.save ->
# pytorch_model.bin, plus hand-written F16/F32 safetensors), and each model's logits from a float64 forward written
# here from transformers' modeling_gpt_neo.py / modeling_llama.py semantics. Used by test/interop/*.test.ts.
# Usage: python3 torch_fixtures.py <out-dir> [fixture-name...]   (names limit what is written; default all)
import collections, json, math, os, struct, sys
import torch
import torch.nn.functional as F

out = sys.argv[1]
only = set(sys.argv[2:])
wanted = lambda name: not only or name in only
torch.manual_seed(0)
ROWS = [0, 1, 11, 39, 200, 255, 256, 257, 300, 311]  # 256+ : the local layers' window cuts in
IDS = [50256, 7454, 2402, 257, 640, 11, 612, 373, 257, 1310, 290, 18180] + [(i * 7919) % 50257 for i in range(300)]


def rnd(*shape, std=0.3):
    return torch.randn(*shape) * std


def neo_state(V, C, L, NH, P, window, tied):
    sd = collections.OrderedDict()
    sd['transformer.wte.weight'] = rnd(V, C)
    sd['transformer.wpe.weight'] = rnd(P, C, std=0.1)
    for l in range(L):
        p = f'transformer.h.{l}'
        sd[f'{p}.ln_1.weight'] = 1 + rnd(C, std=0.1)
        sd[f'{p}.ln_1.bias'] = rnd(C, std=0.1)
        # HF's non-parameter buffers, as GPTNeoSelfAttention registers them (the local layers' mask has the window cut)
        bias = torch.tril(torch.ones((P, P), dtype=torch.bool)).view(1, 1, P, P)
        if l % 2 == 1:
            bias = torch.bitwise_xor(bias, torch.tril(bias, -window))
        sd[f'{p}.attn.attention.bias'] = bias
        sd[f'{p}.attn.attention.masked_bias'] = torch.tensor(-1e9)
        for n in ['k_proj', 'v_proj', 'q_proj']:
            sd[f'{p}.attn.attention.{n}.weight'] = rnd(C, C)
        sd[f'{p}.attn.attention.out_proj.weight'] = rnd(C, C)
        sd[f'{p}.attn.attention.out_proj.bias'] = rnd(C, std=0.1)
        sd[f'{p}.ln_2.weight'] = 1 + rnd(C, std=0.1)
        sd[f'{p}.ln_2.bias'] = rnd(C, std=0.1)
        sd[f'{p}.mlp.c_fc.weight'] = rnd(4 * C, C)
        sd[f'{p}.mlp.c_fc.bias'] = rnd(4 * C, std=0.1)
        sd[f'{p}.mlp.c_proj.weight'] = rnd(C, 4 * C)
        sd[f'{p}.mlp.c_proj.bias'] = rnd(C, std=0.1)
    sd['transformer.ln_f.weight'] = 1 + rnd(C, std=0.1)
    sd['transformer.ln_f.bias'] = rnd(C, std=0.1)
    sd['lm_head.weight'] = sd['transformer.wte.weight'] if tied else rnd(V, C)
    return sd


def neo_forward(sd, L, NH, window, eps, ids):
    g = lambda n: sd[n].double()
    T = len(ids)
    x = g('transformer.wte.weight')[ids] + g('transformer.wpe.weight')[:T]
    C = x.shape[1]
    HS = C // NH
    for l in range(L):
        p = f'transformer.h.{l}.'
        h = F.layer_norm(x, (C,), g(p + 'ln_1.weight'), g(p + 'ln_1.bias'), eps)
        q, k, v = [(h @ g(p + f'attn.attention.{n}_proj.weight').T).view(T, NH, HS).transpose(0, 1) for n in 'qkv']
        att = q @ k.transpose(-1, -2)  # GPT-Neo does not scale by 1/sqrt(HS)
        i = torch.arange(T).view(T, 1)
        j = torch.arange(T).view(1, T)
        allowed = j <= i
        if l % 2 == 1:
            allowed = allowed & (i - j < window)
        att = att.masked_fill(~allowed, torch.finfo(att.dtype).min).softmax(-1)
        o = (att @ v).transpose(0, 1).reshape(T, C)
        x = x + o @ g(p + 'attn.attention.out_proj.weight').T + g(p + 'attn.attention.out_proj.bias')
        h = F.layer_norm(x, (C,), g(p + 'ln_2.weight'), g(p + 'ln_2.bias'), eps)
        u = h @ g(p + 'mlp.c_fc.weight').T + g(p + 'mlp.c_fc.bias')
        u = 0.5 * u * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (u + 0.044715 * torch.pow(u, 3.0))))
        x = x + u @ g(p + 'mlp.c_proj.weight').T + g(p + 'mlp.c_proj.bias')
    x = F.layer_norm(x, (C,), g('transformer.ln_f.weight'), g('transformer.ln_f.bias'), eps)
    return x @ g('lm_head.weight').T


def llama_state(V, C, L, NH, NKV, H, tied):
    HS = C // NH
    sd = collections.OrderedDict()
    sd['model.embed_tokens.weight'] = rnd(V, C)
    for l in range(L):
        p = f'model.layers.{l}'
        sd[f'{p}.self_attn.q_proj.weight'] = rnd(NH * HS, C)
        sd[f'{p}.self_attn.k_proj.weight'] = rnd(NKV * HS, C)
        sd[f'{p}.self_attn.v_proj.weight'] = rnd(NKV * HS, C)
        sd[f'{p}.self_attn.o_proj.weight'] = rnd(C, NH * HS)
        sd[f'{p}.self_attn.rotary_emb.inv_freq'] = 1.0 / (10000 ** (torch.arange(0, HS, 2).float() / HS))
        sd[f'{p}.mlp.gate_proj.weight'] = rnd(H, C)
        sd[f'{p}.mlp.up_proj.weight'] = rnd(H, C)
        sd[f'{p}.mlp.down_proj.weight'] = rnd(C, H)
        sd[f'{p}.input_layernorm.weight'] = 1 + rnd(C, std=0.1)
        sd[f'{p}.post_attention_layernorm.weight'] = 1 + rnd(C, std=0.1)
    sd['model.norm.weight'] = 1 + rnd(C, std=0.1)
    sd['lm_head.weight'] = sd['model.embed_tokens.weight'] if tied else rnd(V, C)
    return sd


def llama_forward(sd, L, NH, NKV, eps, theta, ids):
    g = lambda n: sd[n].double()
    T = len(ids)
    x = g('model.embed_tokens.weight')[ids]
    C = x.shape[1]
    HS = C // NH
    inv = 1.0 / (theta ** (torch.arange(0, HS, 2, dtype=torch.float64) / HS))
    ang = torch.arange(T, dtype=torch.float64).view(T, 1) * inv.view(1, -1)
    emb = torch.cat([ang, ang], -1)
    cos, sin = emb.cos(), emb.sin()

    def rot(t):
        a, b = t[..., : HS // 2], t[..., HS // 2 :]
        return t * cos + torch.cat([-b, a], -1) * sin

    def rms(t, w):
        return t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + eps) * w

    for l in range(L):
        p = f'model.layers.{l}.'
        h = rms(x, g(p + 'input_layernorm.weight'))
        q = rot((h @ g(p + 'self_attn.q_proj.weight').T).view(T, NH, HS).transpose(0, 1))
        k = rot((h @ g(p + 'self_attn.k_proj.weight').T).view(T, NKV, HS).transpose(0, 1))
        v = (h @ g(p + 'self_attn.v_proj.weight').T).view(T, NKV, HS).transpose(0, 1)
        k = k.repeat_interleave(NH // NKV, 0)
        v = v.repeat_interleave(NH // NKV, 0)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(HS)
        att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float('-inf')).softmax(-1)
        x = x + (att @ v).transpose(0, 1).reshape(T, C) @ g(p + 'self_attn.o_proj.weight').T
        h = rms(x, g(p + 'post_attention_layernorm.weight'))
        x = x + (F.silu(h @ g(p + 'mlp.gate_proj.weight').T) * (h @ g(p + 'mlp.up_proj.weight').T)) @ g(p + 'mlp.down_proj.weight').T
    x = rms(x, g('model.norm.weight'))
    return x @ g('lm_head.weight').T


def write_safetensors(path, sd, names):
    header, blobs, off = {'__metadata__': {'format': 'pt'}}, [], 0
    for n in names:
        t = sd[n].contiguous()
        b = t.numpy().tobytes()
        header[n] = {'dtype': {torch.float32: 'F32', torch.float16: 'F16'}[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def save(name, sd, config, logits, fmt):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'config.json'), 'w') as f:
        json.dump(config, f)
    weights = collections.OrderedDict((k, v) for k, v in sd.items() if not k.endswith('.attn.attention.bias') or fmt == 'bin')
    if fmt == 'bin':
        torch.save(sd, os.path.join(d, 'pytorch_model.bin'))
    elif fmt == 'safetensors':
        names = [k for k in weights if not (config.get('tie_word_embeddings', True) and k == 'lm_head.weight') and not k.endswith('masked_bias')]
        write_safetensors(os.path.join(d, 'model.safetensors'), weights, names)
    else:  # sharded safetensors with an index
        names = [k for k in weights if not k.endswith('masked_bias')]
        half = len(names) // 2
        shards = [('model-00001-of-00002.safetensors', names[:half]), ('model-00002-of-00002.safetensors', names[half:])]
        for fn, ns in shards:
            write_safetensors(os.path.join(d, fn), weights, ns)
        with open(os.path.join(d, 'model.safetensors.index.json'), 'w') as f:
            json.dump({'metadata': {}, 'weight_map': {n: fn for fn, ns in shards for n in ns}}, f)
    rows = [r for r in ROWS if r < logits.shape[0]]  # the positions compared (full rows of 50257 are large)
    with open(os.path.join(d, 'logits.f64'), 'wb') as f:
        f.write(logits[rows].contiguous().numpy().astype('<f8').tobytes())
    with open(os.path.join(d, 'rows.json'), 'w') as f:
        json.dump(rows, f)
    with open(os.path.join(d, 'ids.json'), 'w') as f:
        json.dump(IDS if 'neo' in name else [i % sd['lm_head.weight'].shape[0] for i in IDS[:40]], f)


def neo_config(C, L, NH, tied, dtype):
    c = {'architectures': ['GPTNeoForCausalLM'], 'model_type': 'gpt_neo', 'vocab_size': 50257, 'max_position_embeddings': 2048,
         'hidden_size': C, 'num_layers': L, 'num_heads': NH, 'intermediate_size': None, 'window_size': 256,
         'attention_types': [[['global', 'local'], L // 2]], 'activation_function': 'gelu_new', 'layer_norm_epsilon': 1e-5,
         'bos_token_id': 50256, 'eos_token_id': 50256, 'torch_dtype': dtype}
    if not tied:
        c['tie_word_embeddings'] = False
    return c


for name, dtype, tied, fmt in [('neo-f32-tied-bin', torch.float32, True, 'bin'), ('neo-f16-untied-bin', torch.float16, False, 'bin'),
                               ('neo-f16-tied-safetensors', torch.float16, True, 'safetensors')]:
    if not wanted(name):
        continue
    sd = neo_state(50257, 16, 2, 2, 2048, 256, tied)
    sd = collections.OrderedDict((k, v.to(dtype) if v.is_floating_point() else v) for k, v in sd.items())
    if tied:
        sd['lm_head.weight'] = sd['transformer.wte.weight']
    ids = IDS
    save(name, sd, neo_config(16, 2, 2, tied, str(dtype).split('.')[1]), neo_forward(sd, 2, 2, 256, 1e-5, ids), fmt)

for name, dtype, tied, fmt in [('llama-f32-untied-bin', torch.float32, False, 'bin'), ('llama-f16-tied-bin', torch.float16, True, 'bin'),
                               ('llama-f32-untied-sharded', torch.float32, False, 'sharded')]:
    if not wanted(name):
        continue
    V, C, L, NH, NKV, H = 300, 32, 2, 4, 2, 48
    sd = llama_state(V, C, L, NH, NKV, H, tied)
    sd = collections.OrderedDict((k, v.to(dtype)) for k, v in sd.items())
    if tied:
        sd['lm_head.weight'] = sd['model.embed_tokens.weight']
    config = {'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'vocab_size': V, 'max_position_embeddings': 128,
              'hidden_size': C, 'intermediate_size': H, 'num_hidden_layers': L, 'num_attention_heads': NH, 'num_key_value_heads': NKV,
              'rms_norm_eps': 1e-5, 'rope_theta': 10000.0, 'tie_word_embeddings': tied, 'hidden_act': 'silu', 'torch_dtype': str(dtype).split('.')[1]}
    ids = [i % V for i in IDS[:40]]
    save(name, sd, config, llama_forward(sd, L, NH, NKV, 1e-5, 10000.0, ids), fmt)


# Views that are not contiguous, and integer/bool storages: the reader gathers by stride and widens to float.
strided = collections.OrderedDict()
strided['t'] = torch.arange(12, dtype=torch.float32).view(3, 4).t()
strided['col'] = torch.arange(12, dtype=torch.float16).view(3, 4)[:, 1]
strided['long'] = torch.arange(5, dtype=torch.int64) - 2
strided['mask'] = torch.tensor([True, False, True])
strided['scalar'] = torch.tensor(-1e9)
if wanted('strided'):
    torch.save(strided, os.path.join(out, 'strided.bin'))


class Evil:
    def __reduce__(self):
        return (os.system, ('touch ' + os.path.join(out, 'pwned'),))


# A hostile pytorch_model.bin: torch.save of a dict whose value runs os.system when unpickled by torch.load.
if wanted('hostile'):
    torch.save({'w': torch.zeros(2), 'x': Evil()}, os.path.join(out, 'hostile.bin'))
print('ok')
