import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {InvalidInputError} from '../../src/lib/errors.js'
import {
  type InputName,
  isKubernetesKey,
  parseBoolean,
  parseBucketName,
  parseChoice,
  parseHttpUrl as parseUrl,
  redactCredentials,
  parseKeyList,
  parsePositiveInteger,
  parseRegion,
  parseRoleArn,
  parseSeconds,
} from '../../src/lib/validate.js'

/** Asserts that `fn` throws InvalidInputError, exit 2, naming the flag, the env var and the value. */
function assertInvalid(fn: () => unknown, name: InputName, value: string, problem?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${String(error)}`)
    assert.equal(error.exitCode, 2)
    assert.equal(error.code, 'INVALID_INPUT')
    assert.equal(error.flag, name.flag)
    assert.equal(error.envVar, name.env)
    assert.equal(error.value, value)
    assert.ok(error.message.includes(`--${name.flag}`), error.message)
    if (name.env) assert.ok(error.message.includes(name.env), error.message)
    assert.ok(error.message.includes(`"${value}"`), error.message)
    if (problem) assert.match(error.message, problem)
    return true
  })
}

describe('isKubernetesKey', () => {
  it('accepts plain and prefixed keys', () => {
    for (const key of [
      'app',
      'a',
      'app.kubernetes.io/name',
      'eks.amazonaws.com/nodegroup',
      'team_name',
      'A-1.b_c',
      'x/y',
      'a'.repeat(63),
    ]) {
      assert.equal(isKubernetesKey(key), true, key)
    }
  })

  it('rejects malformed keys', () => {
    for (const key of [
      '',
      '-app',
      'app-',
      'a b',
      'app/',
      '/app',
      'Example.com/app',
      'a_b.com/app',
      'a/b/c',
      'app=1',
      'a'.repeat(64),
      `${'a'.repeat(254)}/x`,
    ]) {
      assert.equal(isKubernetesKey(key), false, key)
    }
  })
})

describe('parseKeyList', () => {
  const name = {flag: 'labels', env: 'LABELS'}

  it('accepts a single key (the old exporter rejected it)', () => {
    assert.deepEqual(parseKeyList('app', name, 'labels'), ['app'])
  })

  it('splits and trims comma-separated keys', () => {
    assert.deepEqual(parseKeyList('app, app.kubernetes.io/name', name, 'labels'), ['app', 'app.kubernetes.io/name'])
    assert.deepEqual(parseKeyList('  team ,owner,  cost-center  ', name, 'labels'), ['team', 'owner', 'cost-center'])
  })

  it('tolerates a trailing comma and blank entries', () => {
    assert.deepEqual(parseKeyList('app,', name, 'labels'), ['app'])
    assert.deepEqual(parseKeyList('app, ,team,', name, 'labels'), ['app', 'team'])
  })

  it('gives no keys for an empty value', () => {
    assert.deepEqual(parseKeyList('', name, 'labels'), [])
    assert.deepEqual(parseKeyList(' , ', name, 'labels'), [])
  })

  it('rejects an invalid key, naming it', () => {
    assertInvalid(
      () => parseKeyList('app, not a key', name, 'labels'),
      name,
      'app, not a key',
      /"not a key" is not a Kubernetes key/,
    )
    assertInvalid(() => parseKeyList('app=web', name, 'labels'), name, 'app=web')
  })

  it('rejects a key listed twice', () => {
    assertInvalid(() => parseKeyList('app, team, app', name, 'labels'), name, 'app, team, app', /"app" is listed twice/)
  })

  it('rejects keys that differ only in case, naming both: Athena could not tell their columns apart', () => {
    assertInvalid(
      () => parseKeyList('app,team,App', name, 'labels'),
      name,
      'app,team,App',
      /"app" and "App" differ only in case: .*properties\.labels\.app and properties\.labels\.App would be one column/,
    )
    const ann = {flag: 'annotations', env: 'ANNOTATIONS'}
    assertInvalid(
      () => parseKeyList('example.com/Owner, example.com/owner', ann, 'annotations'),
      ann,
      'example.com/Owner, example.com/owner',
      /"example\.com\/Owner" and "example\.com\/owner" differ only in case/,
    )
  })

  it('accepts the same key as a label and as an annotation: they are different columns', () => {
    assert.deepEqual(parseKeyList('app', name, 'labels'), ['app'])
    assert.deepEqual(parseKeyList('App', {flag: 'annotations', env: 'ANNOTATIONS'}, 'annotations'), ['App'])
  })

  it("rejects a key whose column name would pass Glue's 255 characters, naming it", () => {
    // Kubernetes allows 253 characters of prefix, "/" and 63 of name; Glue's columns stop at 255.
    const prefix = (n: number) => `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(n - 128)}`
    const fits = `${prefix(173)}/${'n'.repeat(63)}`
    assert.equal(fits.length, 237)
    assert.deepEqual(parseKeyList(`app,${fits}`, name, 'labels'), ['app', fits])
    const tooLong = `${prefix(174)}/${'n'.repeat(63)}`
    assertInvalid(
      () => parseKeyList(`app,${tooLong}`, name, 'labels'),
      name,
      `app,${tooLong}`,
      new RegExp(
        `"${tooLong.replaceAll('.', '\\.')}" is 238 characters long: the column properties\\.labels\\.<key> would have 256, over the 255 characters Glue allows a column name`,
      ),
    )
    // properties.annotations. is five characters longer than properties.labels.
    const ann = {flag: 'annotations', env: 'ANNOTATIONS'}
    const annotation = `${prefix(168)}/${'n'.repeat(63)}`
    assert.deepEqual(parseKeyList(annotation, ann, 'annotations'), [annotation])
    assertInvalid(
      () => parseKeyList(`${prefix(169)}/${'n'.repeat(63)}`, ann, 'annotations'),
      ann,
      `${prefix(169)}/${'n'.repeat(63)}`,
      /is 233 characters long: the column properties\.annotations\.<key> would have 256/,
    )
  })

  it('names the annotations flag and env var', () => {
    const ann = {flag: 'annotations', env: 'ANNOTATIONS'}
    assertInvalid(() => parseKeyList('owner, team name', ann, 'annotations'), ann, 'owner, team name', /"team name"/)
  })
})

describe('parseBucketName', () => {
  const name = {flag: 'bucket', env: 'S3_BUCKET_NAME'}

  it('accepts valid names and trims whitespace', () => {
    assert.equal(parseBucketName('kubecost-data-111122223333', name), 'kubecost-data-111122223333')
    assert.equal(parseBucketName('abc', name), 'abc')
    assert.equal(parseBucketName('my.bucket.name', name), 'my.bucket.name')
    assert.equal(parseBucketName(' 1bucket2 ', name), '1bucket2')
    assert.equal(parseBucketName('a'.repeat(63), name), 'a'.repeat(63))
  })

  it('rejects names shorter than 3 or longer than 63 characters', () => {
    assertInvalid(() => parseBucketName('ab', name), name, 'ab', /3-63 characters/)
    assertInvalid(() => parseBucketName('', name), name, '', /3-63 characters/)
    assertInvalid(() => parseBucketName('a'.repeat(64), name), name, 'a'.repeat(64), /3-63 characters/)
  })

  it('rejects uppercase letters, underscores and other characters', () => {
    assertInvalid(() => parseBucketName('MyBucket', name), name, 'MyBucket', /lowercase/)
    assertInvalid(() => parseBucketName('my_bucket', name), name, 'my_bucket', /lowercase/)
    assertInvalid(() => parseBucketName('s3://my-bucket', name), name, 's3://my-bucket', /lowercase/)
    assertInvalid(() => parseBucketName('my-bucket/key', name), name, 'my-bucket/key', /lowercase/)
  })

  it('rejects names not starting and ending with a letter or digit', () => {
    assertInvalid(() => parseBucketName('-bucket', name), name, '-bucket', /starting and ending/)
    assertInvalid(() => parseBucketName('bucket-', name), name, 'bucket-', /starting and ending/)
    assertInvalid(() => parseBucketName('.bucket', name), name, '.bucket', /starting and ending/)
    assertInvalid(() => parseBucketName('bucket.', name), name, 'bucket.', /starting and ending/)
  })

  it('rejects two adjacent dots', () => {
    assertInvalid(() => parseBucketName('my..bucket', name), name, 'my..bucket', /two adjacent dots/)
  })

  it('rejects a name formatted as an IP address', () => {
    assertInvalid(() => parseBucketName('192.168.5.4', name), name, '192.168.5.4', /IP address/)
  })

  it('rejects reserved prefixes and suffixes', () => {
    for (const bucket of [
      'xn--bucket',
      'sthree-bucket',
      'sthree-configurator',
      'amzn-s3-demo-bucket',
      'bucket-s3alias',
      'bucket--ol-s3',
      'bucket.mrap',
      'bucket--x-s3',
      'bucket--table-s3',
    ]) {
      assertInvalid(() => parseBucketName(bucket, name), name, bucket, /reserves/)
    }
  })
})

describe('parsePositiveInteger', () => {
  const name = {flag: 'backfill-days', env: 'BACKFILL_PERIOD_DAYS'}

  it('accepts whole numbers greater than 0', () => {
    assert.equal(parsePositiveInteger('1', name), 1)
    assert.equal(parsePositiveInteger('15', name), 15)
    assert.equal(parsePositiveInteger(' 30 ', name), 30)
    assert.equal(parsePositiveInteger('007', name), 7)
  })

  for (const value of ['0', '-1', '1.5', 'abc', '', ' ', '1e3', '0x10', '+5', '12abc', '99999999999999999999']) {
    it(`rejects ${JSON.stringify(value)}`, () => {
      assertInvalid(() => parsePositiveInteger(value, name), name, value, /whole number greater than 0/)
    })
  }
})

describe('parseSeconds', () => {
  const name = {flag: 'connect-timeout', env: 'CONNECTION_TIMEOUT'}

  it('returns milliseconds for whole and fractional seconds', () => {
    assert.equal(parseSeconds('10', name), 10_000)
    assert.equal(parseSeconds('2.5', name), 2500)
    assert.equal(parseSeconds('0.25', name), 250)
    assert.equal(parseSeconds(' 60 ', name), 60_000)
  })

  it('accepts an "s" suffix', () => {
    assert.equal(parseSeconds('30s', name), 30_000)
    assert.equal(parseSeconds('1.5 s', name), 1500)
  })

  for (const value of ['0', '-1', 'x', '', ' ', 's', 'Infinity', 'NaN', '10m']) {
    it(`rejects ${JSON.stringify(value)}`, () => {
      assertInvalid(() => parseSeconds(value, name), name, value, /seconds greater than 0/)
    })
  }

  it('names the read-timeout flags', () => {
    const alloc = {flag: 'allocation-read-timeout', env: 'KUBECOST_ALLOCATION_API_READ_TIMEOUT'}
    assertInvalid(() => parseSeconds('soon', alloc), alloc, 'soon')
  })
})

describe('parseHttpUrl', () => {
  const name = {flag: 'kubecost-url', env: 'KUBECOST_API_ENDPOINT'}
  const example = 'http://kubecost-cost-analyzer.kubecost:9090'
  const parseHttpUrl = (input: string, n: InputName) => parseUrl(input, n, example)

  it('accepts http and https URLs, trimmed and otherwise unchanged', () => {
    assert.equal(
      parseHttpUrl('http://kubecost-cost-analyzer.kubecost:9090', name),
      'http://kubecost-cost-analyzer.kubecost:9090',
    )
    assert.equal(parseHttpUrl('https://kubecost.example.com/base/', name), 'https://kubecost.example.com/base/')
    assert.equal(parseHttpUrl(' HTTPS://kubecost.example.com ', name), 'HTTPS://kubecost.example.com')
    assert.equal(parseHttpUrl('http://127.0.0.1:9090', name), 'http://127.0.0.1:9090')
  })

  it('rejects other schemes, naming the scheme', () => {
    assertInvalid(
      () => parseHttpUrl('ftp://kubecost:21', name),
      name,
      'ftp://kubecost:21',
      /scheme "ftp" is not supported/,
    )
    assertInvalid(() => parseHttpUrl('file:///etc/passwd', name), name, 'file:///etc/passwd', /scheme "file"/)
  })

  it('rejects something that is not a URL', () => {
    assertInvalid(() => parseHttpUrl('kubecost:9090 oops', name), name, 'kubecost:9090 oops')
    assertInvalid(() => parseHttpUrl('not a url', name), name, 'not a url', /not a URL/)
    assertInvalid(() => parseHttpUrl('', name), name, '', /not a URL/)
    assertInvalid(() => parseHttpUrl('//kubecost:9090', name), name, '//kubecost:9090', /not a URL/)
  })

  it('never repeats the credentials of a URL it rejects, valid URL or not', () => {
    assertInvalid(() => parseHttpUrl('htp//user:TOKEN@kubecost', name), name, 'htp//***@kubecost', /not a URL/)
    assertInvalid(
      () => parseHttpUrl('ftp://user:TOKEN@kubecost:21', name),
      name,
      'ftp://***@kubecost:21',
      /scheme "ftp"/,
    )
    assertInvalid(() => parseHttpUrl('user:TOKEN@kubecost', name), name, '***@kubecost')
    assert.equal(redactCredentials('http://kubecost:9090'), 'http://kubecost:9090')
  })

  it('says "add http://" with the corrected URL for host:port without a scheme', () => {
    for (const [input, fixed] of [
      ['localhost:19090', 'localhost:19090'],
      ['kubecost-cost-analyzer.kubecost:9090', 'kubecost-cost-analyzer.kubecost:9090'],
      ['127.0.0.1:19090', '127.0.0.1:19090'],
      ['[::1]:9090', '[::1]:9090'],
      [' kubecost.example.com/kubecost ', 'kubecost.example.com/kubecost'],
      ['kubecost-frontend', 'kubecost-frontend'],
      ['user:TOKEN@kubecost:9090', '***@kubecost:9090'],
    ] as const) {
      assert.throws(
        () => parseHttpUrl(input, name),
        (error: unknown) => {
          assert.ok(error instanceof InvalidInputError)
          assert.equal(error.exitCode, 2)
          assert.equal(
            error.message,
            `Invalid --kubecost-url (KUBECOST_API_ENDPOINT) "${redactCredentials(input)}": it has no scheme; add http://`,
          )
          assert.deepEqual(error.suggestions, [`Use http://${fixed} (or https://${fixed} if the port speaks TLS).`])
          assert.doesNotMatch(error.suggestions.join(), /TOKEN|scheme "/)
          return true
        },
        input,
      )
    }
  })

  it("shows each setting's own example of a right value", () => {
    const s3 = {flag: 's3-endpoint', env: 'S3_ENDPOINT_URL'}
    const s3Example = 'http://127.0.0.1:9000 (MinIO) or https://s3.eu-west-1.amazonaws.com'
    for (const input of ['not a url', 'ftp://minio:21']) {
      assert.throws(
        () => parseUrl(input, s3, s3Example),
        (error: unknown) => {
          assert.ok(error instanceof InvalidInputError)
          assert.match(error.message, /^Invalid --s3-endpoint \(S3_ENDPOINT_URL\) "/)
          assert.deepEqual(error.suggestions, [`Give a full URL such as ${s3Example}.`])
          return true
        },
      )
    }

    assert.throws(
      () => parseHttpUrl('not a url', name),
      (error: unknown) =>
        error instanceof InvalidInputError && error.suggestions.join() === `Give a full URL such as ${example}.`,
    )
  })
})

describe('parseChoice', () => {
  const name = {flag: 'aggregation', env: 'AGGREGATION'}
  const choices = ['container', 'pod', 'namespace', 'controller', 'controllerKind', 'node', 'cluster'] as const

  it('returns the exact choice', () => {
    assert.equal(parseChoice('pod', choices, name), 'pod')
    assert.equal(parseChoice('controllerKind', choices, name), 'controllerKind')
  })

  it('matches case-insensitively and trims, returning the canonical spelling', () => {
    assert.equal(parseChoice(' CONTROLLERKIND ', choices, name), 'controllerKind')
    assert.equal(parseChoice('Namespace', choices, name), 'namespace')
  })

  it('prefers an exact match over a case-insensitive one', () => {
    assert.equal(parseChoice('json', ['JSON', 'json'] as const, {flag: 'log-format', env: 'LOG_FORMAT'}), 'json')
  })

  it('rejects anything else, listing the choices', () => {
    assertInvalid(
      () => parseChoice('deployment', choices, name),
      name,
      'deployment',
      /must be one of: container, pod, namespace, controller, controllerKind, node, cluster/,
    )
    assertInvalid(() => parseChoice('', choices, name), name, '')
  })
})

describe('parseBoolean', () => {
  const name = {flag: 'tls-verify', env: 'TLS_VERIFY'}

  it('accepts true/false/yes/no/y/n/1/0 in any case', () => {
    for (const v of ['true', 'TRUE', 'True', 'yes', 'YES', 'y', 'Y', '1', ' true '])
      assert.equal(parseBoolean(v, name), true, v)
    for (const v of ['false', 'FALSE', 'no', 'No', 'n', 'N', '0', ' 0 ']) assert.equal(parseBoolean(v, name), false, v)
  })

  it('rejects anything else', () => {
    assertInvalid(() => parseBoolean('maybe', name), name, 'maybe')
    assertInvalid(() => parseBoolean('', name), name, '')
    assertInvalid(() => parseBoolean('on', name), name, 'on')
  })
})

describe('parseRoleArn and parseRegion', () => {
  it('accepts role ARNs of any partition, with paths', () => {
    const name = {flag: 'parent-role-arn', env: 'IRSA_PARENT_IAM_ROLE_ARN'}
    assert.equal(
      parseRoleArn('arn:aws:iam::111122223333:role/exporter', name),
      'arn:aws:iam::111122223333:role/exporter',
    )
    assert.equal(
      parseRoleArn(' arn:aws-cn:iam::111122223333:role/path/to/exporter ', name),
      'arn:aws-cn:iam::111122223333:role/path/to/exporter',
    )
    assertInvalid(
      () => parseRoleArn('arn:aws:iam::111122223333:user/bob', name),
      name,
      'arn:aws:iam::111122223333:user/bob',
    )
    assertInvalid(() => parseRoleArn('arn:aws:iam::11112222333:role/x', name), name, 'arn:aws:iam::11112222333:role/x')
  })

  it('accepts region names including the newer ones', () => {
    const name = {flag: 'ca-cert-secret-region', env: 'KUBECOST_CA_CERTIFICATE_SECRET_REGION'}
    for (const region of ['us-east-1', 'me-south-1', 'il-central-1', 'ap-southeast-5', 'us-gov-west-1', 'cn-north-1']) {
      assert.equal(parseRegion(region, name), region)
    }

    assertInvalid(() => parseRegion('useast1', name), name, 'useast1')
    assertInvalid(() => parseRegion('US-EAST-1', name), name, 'US-EAST-1')
  })

  it('omits the env var from the message when the flag has none', () => {
    assert.throws(
      () => parseRegion('x', {flag: 'region'}),
      (error: unknown) =>
        error instanceof InvalidInputError &&
        error.message === 'Invalid --region "x": not an AWS region name such as us-east-1',
    )
  })
})

describe('parseSeconds edge cases', () => {
  for (const input of ['0.0001', '0x10', '1e3']) {
    it(`rejects ${input}`, () => {
      assert.throws(
        () => parseSeconds(input, {flag: 'connect-timeout', env: 'CONNECTION_TIMEOUT'}),
        /must be a number of seconds greater than 0/,
      )
    })
  }
})
