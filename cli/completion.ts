import type { Command, Option } from 'commander';

/**
 * `loop-station completion bash|zsh|fish`: completion scripts generated from the command tree, so
 * a new command or option completes without touching this file.
 */

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface OptionInfo {
  readonly flags: string[];
  readonly description: string;
  readonly takesValue: boolean;
  readonly choices: readonly string[];
  readonly repeatable: boolean;
  /** Its value is a file or folder name. */
  readonly file: boolean;
}

interface CommandInfo {
  /** `['server', 'status']` */
  readonly path: string[];
  readonly summary: string;
  readonly options: OptionInfo[];
  readonly children: CommandInfo[];
  /** Its positional arguments take file names. */
  readonly files: boolean;
  /** The values its first positional argument takes (`completion bash|zsh|fish`). */
  readonly argWords: readonly string[];
}

/** Positional values by command path; the command checks them itself, with its own message. */
const ARG_WORDS: Readonly<Record<string, readonly string[]>> = { completion: SHELLS };

const FILE_ARGS = new Set(['spec', 'file', 'dir', 'target']);

function optionInfo(o: Option): OptionInfo {
  return {
    flags: [o.long, o.short].filter((f): f is string => typeof f === 'string'),
    description: o.description,
    takesValue: o.required || o.optional,
    choices: o.argChoices ?? [],
    repeatable: o.variadic || /repeatable/.test(o.description),
    file: /<(file|dir)>/.test(o.flags),
  };
}

function describe(cmd: Command, path: string[]): CommandInfo {
  return {
    path,
    summary: cmd.summary() || cmd.description(),
    options: [
      ...cmd.options.filter((o) => !o.hidden).map(optionInfo),
      optionInfo(cmd.createOption('-h, --help', 'show help')),
    ],
    children: cmd.commands.map((c) => describe(c, [...path, c.name()])),
    files: cmd.registeredArguments.some((a) => FILE_ARGS.has(a.name())),
    argWords: ARG_WORDS[path.join(' ')] ?? [],
  };
}

export function completionScript(program: Command, shell: Shell): string {
  const root = describe(program, []);
  if (shell === 'bash') return bash(root);
  if (shell === 'zsh') return zsh(root);
  return fish(root);
}

const flat = (c: CommandInfo): CommandInfo[] => [c, ...c.children.flatMap(flat)];
const words = (c: CommandInfo) => [
  ...c.children.map((k) => k.path.at(-1)!),
  ...c.argWords,
  ...c.options.flatMap((o) => o.flags),
];

function bash(root: CommandInfo): string {
  const groups = root.children.filter((c) => c.children.length > 0).map((c) => c.path[0]);
  const commands = flat(root);
  const cases = commands.map(
    (c) => `    ${JSON.stringify(c.path.join(' '))}) words=${JSON.stringify(words(c).join(' '))} ;;`,
  );
  const choices = commands.flatMap((c) =>
    c.options
      .filter((o) => o.choices.length > 0)
      .flatMap((o) =>
        o.flags.map(
          (f) =>
            `    ${JSON.stringify(`${c.path.join(' ')}|${f}`)}) ` +
            `COMPREPLY=($(compgen -W ${JSON.stringify(o.choices.join(' '))} -- "$cur")); return ;;`,
        ),
      ),
  );
  const valued = [
    ...new Set(
      commands.flatMap((c) => c.options.filter((o) => o.takesValue && o.choices.length === 0).flatMap((o) => o.flags)),
    ),
  ];
  return `# bash completion for loop-station: source <(loop-station completion bash)
_loop_station() {
  local cur prev cmd word i words
  cur=\${COMP_WORDS[COMP_CWORD]}
  prev=\${COMP_WORDS[COMP_CWORD-1]}
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    case $word in
      -*) ;;
      *)
        if [[ -z $cmd ]]; then cmd=$word
        elif [[ " ${groups.join(' ')} " == *" $cmd "* ]]; then cmd="$cmd $word"
        fi ;;
    esac
  done
  case "$cmd|$prev" in
${choices.join('\n')}
  esac
  case $prev in
    ${valued.join('|')}) return ;;
  esac
  case "$cmd" in
${cases.join('\n')}
    *) words="" ;;
  esac
  if [[ $cur == -* || -n $words ]]; then COMPREPLY=($(compgen -W "$words" -- "$cur")); fi
}
complete -o default -F _loop_station loop-station
`;
}

const zq = (text: string) => text.replace(/'/g, `'\\''`);
const zdesc = (text: string) => zq(text.replace(/\[/g, '(').replace(/\]/g, ')'));

function zshOption(o: OptionInfo): string {
  const action = o.choices.length ? `(${o.choices.join(' ')})` : o.file ? '_files' : ' ';
  const value = o.takesValue ? `:value:${action}` : '';
  const spec = (flag: string) => `'${o.repeatable ? '*' : ''}${flag}[${zdesc(o.description)}]${value}'`;
  return o.flags.map(spec).join(' ');
}

function zshBody(c: CommandInfo, depth: number): string {
  const pad = '  '.repeat(depth);
  if (c.children.length > 0) {
    const list = c.children.map((k) => `'${zq(`${k.path.at(-1)}:${k.summary.replace(/:/g, '\\:')}`)}'`).join(' ');
    const inner = c.children
      .map((k) => `${pad}    ${k.path.at(-1)})\n${zshBody(k, depth + 3)}\n${pad}      ;;`)
      .join('\n');
    return [
      `${pad}local -a subcommands; subcommands=(${list})`,
      `${pad}_arguments -C ${c.options.map(zshOption).join(' ')} '1: :->command' '*:: :->args'`,
      `${pad}case $state in`,
      `${pad}  command) _describe -t commands 'loop-station ${c.path.join(' ') || 'command'}' subcommands ;;`,
      `${pad}  args)`,
      `${pad}    case $words[1] in`,
      inner,
      `${pad}    esac ;;`,
      `${pad}esac`,
    ].join('\n');
  }
  const args = c.argWords.length ? `'1:value:(${c.argWords.join(' ')})'` : c.files ? "'*:file:_files'" : "'*: :'";
  return `${pad}_arguments ${c.options.map(zshOption).join(' ')} ${args}`;
}

function zsh(root: CommandInfo): string {
  return `#compdef loop-station
# zsh completion for loop-station: loop-station completion zsh > "\${fpath[1]}/_loop-station"
_loop-station() {
  local state line
${zshBody(root, 1)}
}
if [[ "\${funcstack[1]}" == _loop-station ]]; then
  _loop-station "$@"
else
  compdef _loop-station loop-station
fi
`;
}

const fq = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fish(root: CommandInfo): string {
  const groups = root.children.filter((c) => c.children.length > 0).map((c) => c.path[0]!);
  const lines = [
    '# fish completion for loop-station: loop-station completion fish > ~/.config/fish/completions/loop-station.fish',
    'complete -c loop-station -f',
  ];
  const condition = (c: CommandInfo): string => {
    if (c.path.length === 0) return '__fish_use_subcommand';
    if (c.path.length === 1) {
      const notGroup = groups.filter((g) => g !== c.path[0]);
      const others = notGroup.length ? `; and not __fish_seen_subcommand_from ${notGroup.join(' ')}` : '';
      return `__fish_seen_subcommand_from ${c.path[0]}${others}`;
    }
    return c.path.map((p) => `__fish_seen_subcommand_from ${p}`).join('; and ');
  };
  for (const c of flat(root)) {
    if (c.children.length > 0) {
      const names = c.children.map((k) => k.path.at(-1)!);
      const here =
        c.path.length === 0
          ? '__fish_use_subcommand'
          : `${condition(c)}; and not __fish_seen_subcommand_from ${names.join(' ')}`;
      for (const k of c.children)
        lines.push(`complete -c loop-station -n ${fq(here)} -a ${fq(k.path.at(-1)!)} -d ${fq(k.summary)}`);
    }
    for (const o of c.options) {
      const long = o.flags.find((f) => f.startsWith('--'))?.slice(2);
      const short = o.flags.find((f) => /^-[^-]/.test(f))?.slice(1);
      const names = [long ? `-l ${long}` : '', short ? `-s ${short}` : ''].filter(Boolean).join(' ');
      const value = o.takesValue
        ? o.choices.length
          ? ` -x -a ${fq(o.choices.join(' '))}`
          : o.file
            ? ' -r -F'
            : ' -x'
        : '';
      lines.push(`complete -c loop-station -n ${fq(condition(c))} ${names}${value} -d ${fq(o.description)}`);
    }
    if (c.files && c.children.length === 0) lines.push(`complete -c loop-station -n ${fq(condition(c))} -F`);
    if (c.argWords.length) lines.push(`complete -c loop-station -n ${fq(condition(c))} -a ${fq(c.argWords.join(' '))}`);
  }
  return `${lines.join('\n')}\n`;
}
