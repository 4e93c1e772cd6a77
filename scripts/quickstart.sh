#!/usr/bin/env bash
# One command for the main job: set up (scripts/setup.sh), make a sample PDF, index it, ask a question,
# print the cited regions and save an overlay PNG (everything goes to out/quickstart/).
#   COLRET_MODEL=<hub name or local folder>  the ColPali-family model (default: vidore/colqwen2-v1.0-hf)
#   COLRET_LLM=openai:gpt-4o-mini | ollama:llama3.1  the LLM (default: LlamaIndex's MockLLM, no answer)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
py=.venv/bin/python
out=out/quickstart
mkdir -p "$out"
"$py" examples/make_sample_pdf.py "$out/sample.pdf"

model="${COLRET_MODEL:-}"
if [ -z "$model" ]; then
  if "$py" -c "import sys; from llama_index_colret.embed.embedder import hub_reachable; sys.exit(0 if hub_reachable()[0] else 1)"; then
    model="$("$py" -c "from llama_index_colret.embed import DEFAULT_MODEL; print(DEFAULT_MODEL)")"
  else
    echo "!! The Hugging Face hub is not reachable and COLRET_MODEL is not set."
    echo "!! Building a TINY RANDOM ColQwen2 model instead: the pipeline runs end to end, but its rankings,"
    echo "!! boxes and answers are MEANINGLESS (random weights). For real results, run with a real model:"
    echo "!!   COLRET_MODEL=vidore/colqwen2-v1.0-hf bash scripts/quickstart.sh   (needs the hub), or"
    echo "!!   COLRET_MODEL=/path/to/a/downloaded/colqwen2-v1.0-hf bash scripts/quickstart.sh"
    "$py" scripts/make_tiny_model.py colqwen2 "$out/tiny-colqwen2"
    model="$(pwd)/$out/tiny-colqwen2"
  fi
fi
rm -rf "$out/index"  # a fresh index each run (an index is tied to the model that built it)
"$py" examples/quickstart.py --pdf "$out/sample.pdf" --model "$model" --db "$out/index" --overlay "$out/overlay.png"
echo "next: .venv/bin/colret ask \"What was the wheat yield in 1860?\" --db $out/index"
echo "      .venv/bin/colret show \"wheat yield\" --db $out/index --out $out/why.png"
