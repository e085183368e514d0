"""The Reflex build plugin that puts Radix UI in one JavaScript chunk (interview_app/build_plugins.py)."""

from __future__ import annotations

import re

import pytest

from interview_app.build_plugins import RadixChunkPlugin, group_radix_chunks

# The shape of the vite.config.js Reflex 0.10 generates (the part the plugin edits).
GENERATED = """export default defineConfig((config) => ({
  build: {
    rollupOptions: {
      output: {
        codeSplitting: {
          groups: [
            {
              test: /env.json/,
              name: "reflex-env",
            },
          ],
        },
      },
    },
  },
}));
"""


def _test_regex(config: str) -> re.Pattern[str]:
    source = re.search(r'name: "radix-ui",\s*test: /(.+)/,', config)
    assert source, config
    return re.compile(source.group(1))  # a JS regex literal of this shape reads the same in Python


def test_the_group_is_added_before_reflexs_own_once() -> None:
    once = group_radix_chunks(GENERATED)
    assert once.index('name: "radix-ui"') < once.index('name: "reflex-env"')
    assert group_radix_chunks(once) == once  # a second compile of the same .web changes nothing


@pytest.mark.parametrize(
    ("module_id", "grouped"),
    [
        ("/app/.web/node_modules/@radix-ui/themes/dist/esm/components/badge.js", True),
        ("/app/.web/node_modules/@radix-ui/react-dialog/dist/index.mjs", True),
        ("/app/.web/node_modules/radix-ui/dist/index.mjs", True),
        ("C:\\app\\.web\\node_modules\\@radix-ui\\react-select\\dist\\index.mjs", True),
        ("/app/.web/node_modules/@radix-ui/react-form/dist/index.mjs", False),  # admin forms only
        ("/app/.web/node_modules/lucide-react/dist/esm/icons/clock.mjs", False),
        ("/app/.web/app/routes/_interview_.$token._index.jsx", False),
    ],
)
def test_the_group_takes_radix_modules_only(module_id: str, grouped: bool) -> None:
    assert bool(_test_regex(group_radix_chunks(GENERATED)).search(module_id)) is grouped


def test_a_changed_reflex_config_fails_the_build_with_a_reason() -> None:
    with pytest.raises(RuntimeError, match="no codeSplitting groups"):
        group_radix_chunks("export default defineConfig({});")


def test_the_plugin_registers_the_edit_of_vite_config() -> None:
    tasks: list[tuple[str, object]] = []
    RadixChunkPlugin().pre_compile(add_modify_task=lambda path, fn: tasks.append((path, fn)))
    assert tasks == [("vite.config.js", group_radix_chunks)]
