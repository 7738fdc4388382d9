import fs from 'node:fs';
import path from 'node:path';
import {
  Lexer,
  Source,
  TokenKind,
  buildASTSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isSpecifiedDirective,
  isSpecifiedScalarType,
  type GraphQLSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config.js';
import { resolvers } from '../../src/modules/resolvers.js';
import { SCHEMA_FILES, buildExecutableSchema, loadSchemaDocument, loadTypeDefs } from '../../src/schema-files.js';

/**
 * Every element of the public API says what it is: introspection (and so GraphiQL's docs) shows descriptions, never
 * `#` comments. Coordinates of what lacks one: `Type`, `Type.field`, `Type.field(arg:)`, `Enum.VALUE`, `@directive`,
 * `@directive(arg:)`.
 */
function undescribed(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  const check = (coordinate: string, description: string | null | undefined) => {
    if (!description?.trim()) missing.push(coordinate);
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || isSpecifiedScalarType(type)) continue;
    check(type.name, type.description);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        check(`${type.name}.${field.name}`, field.description);
        for (const arg of field.args) check(`${type.name}.${field.name}(${arg.name}:)`, arg.description);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) check(`${type.name}.${field.name}`, field.description);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) check(`${type.name}.${value.name}`, value.description);
    }
  }
  for (const directive of schema.getDirectives()) {
    if (isSpecifiedDirective(directive)) continue;
    check(`@${directive.name}`, directive.description);
    for (const arg of directive.args) check(`@${directive.name}(${arg.name}:)`, arg.description);
  }
  return missing;
}

/** `file:line` of each `#` comment of an SDL text (found by the GraphQL lexer: a `#` inside a string is no comment). */
function comments(file: string, sdl: string): string[] {
  const lexer = new Lexer(new Source(sdl));
  while (lexer.advance().kind !== TokenKind.EOF);
  const found: string[] = [];
  for (let token = lexer.token.prev; token; token = token.prev) {
    if (token.kind === TokenKind.COMMENT) found.unshift(`${path.relative(projectRoot, file)}:${token.line}: #${token.value}`);
  }
  return found;
}

describe('schema descriptions', () => {
  it('every type, field, argument, input field, enum value, scalar and directive of the SDL has a description', () => {
    expect(undescribed(buildASTSchema(loadSchemaDocument()))).toEqual([]);
  });

  it('the served schema shows the SDL descriptions (scalars included, whose implementations bring their own)', () => {
    const served = buildExecutableSchema(resolvers);
    expect(undescribed(served)).toEqual([]);
    const sdl = buildASTSchema(loadSchemaDocument());
    for (const type of Object.values(sdl.getTypeMap())) {
      if (!type.name.startsWith('__')) expect(served.getType(type.name)?.description, type.name).toBe(type.description);
    }
  });

  it('the SDL files hold no # comments (introspection does not show them: write descriptions)', () => {
    const typeDefs = loadTypeDefs();
    expect(SCHEMA_FILES.flatMap((file, i) => comments(file, typeDefs[i]!))).toEqual([]);
  });

  it('the server loads every SDL file codegen.yml reads (schema.graphql, src/modules/*/schema.graphql)', () => {
    const modulesDir = path.join(projectRoot, 'src', 'modules');
    const onDisk = fs
      .readdirSync(modulesDir)
      .map((module) => path.join(modulesDir, module, 'schema.graphql'))
      .filter((file) => fs.existsSync(file));
    expect(SCHEMA_FILES[0]).toBe(path.join(projectRoot, 'schema.graphql'));
    expect([...SCHEMA_FILES.slice(1)].sort()).toEqual(onDisk.sort());
  });
});
