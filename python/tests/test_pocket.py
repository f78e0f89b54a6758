"""The Python binding over libpocket with the tiny models in ../shared: greedy answers identical
to `pocket run` (another process) for the same prompt and image, streaming, errors carrying the
library's message, and native memory released by context managers.
Environment: POCKET_LIBRARY (libpocket.so), POCKET_CLI (the `pocket` binary), POCKET_SHARED_DIR."""
import json
import os
import subprocess
import unittest

import pocket

SHARED = os.environ.get("POCKET_SHARED_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
SMOL = os.path.join(SHARED, "models", "tiny-smol-f16.gguf")
SMOL_PROJ = os.path.join(SHARED, "models", "smolvlm2-small-tiny-mmproj.gguf")
MINISTRAL = os.path.join(SHARED, "models", "tiny-ministral3-f16.gguf")
PIXTRAL = os.path.join(SHARED, "models", "tiny-pixtral-mmproj.gguf")
IMAGE = os.path.join(SHARED, "images", "tiny_32x24.png")
QUESTION = "What is in this image?"


def pocket_run(model, mmproj, n):
    cli = os.environ["POCKET_CLI"]
    out = subprocess.run([cli, "run", "-q", "-m", model, "--mmproj", mmproj, "--image", IMAGE, "-p", QUESTION,
                          "-n", str(n), "--temp", "0"], check=True, capture_output=True)
    return out.stdout.decode("utf-8")


class SameAnswerAsPocketRun(unittest.TestCase):
    def check(self, model_path, mmproj):
        expected = pocket_run(model_path, mmproj, 16)
        with pocket.Model(model_path, mmproj=mmproj, n_threads=2) as model:
            text = model.chat([{"role": "user", "content": QUESTION}], images=[IMAGE], temperature=0, max_tokens=16)
            self.assertEqual(text + "\n", expected)
            streamed = "".join(model.chat([{"role": "user", "content": QUESTION}], images=[IMAGE], stream=True,
                                          temperature=0, max_tokens=16))
            self.assertEqual(streamed, text)
            # The same image as encoded bytes and as the path give the same answer.
            with open(IMAGE, "rb") as f:
                data = f.read()
            self.assertEqual(model.chat([{"role": "user", "content": QUESTION}], images=[data], temperature=0,
                                        max_tokens=16), text)

    def test_smolvlm2(self):
        self.check(SMOL, SMOL_PROJ)

    def test_ministral3(self):
        self.check(MINISTRAL, PIXTRAL)


class Errors(unittest.TestCase):
    def test_missing_model(self):
        with self.assertRaises(pocket.PocketError) as cm:
            pocket.Model("/nonexistent/model.gguf")
        self.assertEqual(cm.exception.status_name, "i/o error")
        self.assertIn("model.gguf", cm.exception.message)

    def test_bad_media_and_parameters(self):
        with pocket.Model(SMOL, mmproj=SMOL_PROJ, n_threads=1) as model, model.session() as s:
            s.add("user", "hi")
            with self.assertRaises(pocket.PocketError) as cm:
                s.add_image(b"\x89PNG\r\n\x1a\nbroken")
            self.assertEqual(cm.exception.status_name, "bad media")
            with self.assertRaises(pocket.PocketError):
                s.add_image((b"\x00" * 11, 2, 2))  # 2x2 RGB is 12 bytes
            with self.assertRaises(pocket.PocketError) as cm:
                s.generate(top_p=3.0)
            self.assertIn("top_p", cm.exception.message)
            with self.assertRaises(TypeError):
                s.generate(frequency_penalty=0.5)  # not a parameter Pocket has: refused by name
            with self.assertRaises(pocket.PocketError) as cm:
                s.generate(json_schema={"type": "object", "propertyNames": {"maxLength": 3}})
            self.assertEqual(cm.exception.status_name, "unsupported")
            self.assertIn("propertyNames", cm.exception.message)

    def test_closed_handles(self):
        model = pocket.Model(MINISTRAL, n_threads=1)
        s = model.session()
        s.close()
        s.close()  # twice is fine
        with self.assertRaises(pocket.PocketError):
            s.add("user", "hi")
        model.close()
        with self.assertRaises(pocket.PocketError):
            model.info


class Conversation(unittest.TestCase):
    def test_tokens_info_and_turns(self):
        with pocket.Model(MINISTRAL, n_threads=1) as model:
            self.assertEqual(model.info["architecture"], "mistral3")
            ids = model.tokenize("[INST]hi[/INST]", add_special=False)
            self.assertEqual((ids[0], ids[-1]), (3, 4))  # Tekken control ids (shared/models/README.md)
            self.assertEqual(model.detokenize(ids), "[INST]hi[/INST]")
        with pocket.Model(SMOL, n_threads=1) as model:  # its replies have text, so they stay in the history
            with model.session() as s:
                s.add("user", "hello")
                first = s.generate(temperature=0, max_tokens=5)
                self.assertEqual(first.completion_tokens, 5)
                self.assertEqual(first.finish_reason, "length")
                self.assertTrue(first.text)
                s.add("user", "and?")
                second = s.generate(temperature=0, max_tokens=5)
                self.assertGreater(second.prompt_tokens, first.prompt_tokens + 5)

    def test_forced_tool_call(self):
        tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
            "type": "object", "properties": {"city": {"type": "string"}}}}}]
        with pocket.Model(MINISTRAL, n_threads=1) as model, model.session() as s:
            self.assertTrue(model.info["tools"])
            s.set_tools(tools)
            s.add("user", "Weather in Paris?")
            reply = s.generate(temperature=0, max_tokens=48, tool_choice="required")
            self.assertEqual(len(reply.tool_calls), 1, reply)
            self.assertEqual(reply.tool_calls[0]["function"]["name"], "get_weather")
            s.add_tool_result(reply.tool_calls[0]["id"], '{"celsius": 21}')
            s.generate(temperature=0, max_tokens=4)

    def test_json_schema_answer_validates(self):
        # Checked by the jsonschema package (Debian's python3-jsonschema), not by Pocket.
        import jsonschema
        schema = {"type": "object", "properties": {
            "city": {"type": "string", "maxLength": 10}, "day": {"type": "string", "format": "date"},
            "mood": {"anyOf": [{"type": "null"}, {"enum": ["good", "bad"]}]}},
            "required": ["city", "day", "mood"], "additionalProperties": False}
        with pocket.Model(MINISTRAL, n_threads=1) as model:
            for seed in (1, 2, 3):
                with model.session() as s:
                    s.add("user", "Plan a trip")
                    reply = s.generate(temperature=1.0, seed=seed, max_tokens=40, json_schema=schema)
                    jsonschema.Draft202012Validator(
                        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(
                            json.loads(reply.text))

    def test_closing_a_stream_early_cancels_it(self):
        with pocket.Model(SMOL, n_threads=1) as model, model.session() as s:
            s.add("user", "count")
            gen = s.stream(temperature=0, max_tokens=-1)
            next(gen)
            gen.close()  # cancels and joins the generating thread
            s.add("user", "again")
            self.assertEqual(s.generate(temperature=0, max_tokens=3).completion_tokens, 3)


if __name__ == "__main__":
    unittest.main()
