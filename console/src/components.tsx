import type { ComponentChildren, JSX } from 'preact';
import { ApiError } from './api.ts';
import { navigate } from './router.ts';

/** An in-console link: a real <a href> (keyboard, new tab, copy link all work), routed without a reload. */
export function Link(props: { href: string; current?: boolean; class?: string; children: ComponentChildren }): JSX.Element {
  const onClick = (event: MouseEvent): void => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.href);
  };
  return (
    <a href={props.href} class={props.class} aria-current={props.current ? 'page' : undefined} onClick={onClick}>
      {props.children}
    </a>
  );
}

/** An API failure in words; a 403 says what the role may not do. */
export function Problem(props: { error: unknown; forbidden?: string }): JSX.Element {
  const { error } = props;
  let text: string;
  if (error instanceof ApiError && error.problem === 'forbidden')
    text = `Your role may not ${props.forbidden ?? 'do this'}. trustgate said: ${error.message}`;
  else if (error instanceof ApiError) text = error.message;
  else text = 'Something went wrong in the console; reload the page.';
  return (
    <p class="problem" role="alert">
      {text}
    </p>
  );
}

/** A term and its value, rendered as text. */
export function Field(props: { term: string; children: ComponentChildren }): JSX.Element {
  return (
    <>
      <dt>{props.term}</dt>
      <dd>{props.children}</dd>
    </>
  );
}
