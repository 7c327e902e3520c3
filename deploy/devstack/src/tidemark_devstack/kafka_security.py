"""The dev broker's secured listeners: SASL_SSL (SCRAM-SHA-512) and SSL (client certificates).

Asked for explicitly (KafkaServer(..., security=SecureListeners(...))): the PLAINTEXT
listener stays as it is for everything else, so `make run` and the suite keep their speed.
On top of it:
  * SASL_SSL: TLS with a server certificate for 127.0.0.1/localhost from a CA made at each
    start, then a SCRAM-SHA-512 login; the users are written at storage format time
    (`kafka-storage format --add-scram`), so a secured broker starts from empty storage.
  * SSL: TLS with a client certificate from the same CA; the certificate's CN=<name> is
    the principal User:<name>, so a user has the same ACLs on either listener.
  * The StandardAuthorizer: nothing is allowed without an ACL, except to the super users
    (the admin, and ANONYMOUS: the PLAINTEXT and controller listeners of this local node).
ACLs are created through the PLAINTEXT listener once the broker answers, and waited for
until the broker itself reports them (its authorizer learns them from the metadata log).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import for_code
from aiokafka.protocol.admin import CreateAclsRequest_v1, DescribeAclsRequest_v1
from aiokafka.protocol.api import Request

from tidemark_devstack.common import DevstackError
from tidemark_devstack.tls import CertificateAuthority, IssuedCertificate

SCRAM = "SCRAM-SHA-512"
# Kafka's wire codes (org.apache.kafka.common.acl / resource)
_RESOURCE = {"topic": 2, "group": 3, "cluster": 4}
_PATTERN = {"literal": 3, "prefixed": 4}
_OPERATION = {"read": 3, "write": 4, "create": 5, "describe": 8, "idempotent_write": 12}
_ANY, _ALLOW = 1, 3


@dataclass(frozen=True)
class AclBinding:
    """ALLOW `operation` on a resource to `principal` (User:<name>), from any host."""

    principal: str
    resource_type: str  # topic | group | cluster
    resource_name: str
    pattern_type: str  # literal | prefixed
    operation: str  # read | write | create | describe | idempotent_write

    def wire(self) -> tuple[int, str, int, str, str, int, int]:
        return (
            _RESOURCE[self.resource_type], self.resource_name, _PATTERN[self.pattern_type],
            self.principal, "*", _OPERATION[self.operation], _ALLOW,
        )  # fmt: skip


class SecureListeners:
    """The SASL_SSL and SSL listeners of one broker, their TLS material under `tls_dir`,
    their SCRAM users (name -> password) and the ACLs applied after start."""

    def __init__(
        self,
        tls_dir: Path,
        sasl_port: int,
        ssl_port: int,
        users: Mapping[str, str],
        acls: Iterable[AclBinding] = (),
        super_users: Iterable[str] = ("admin",),
    ) -> None:
        self.tls_dir = tls_dir
        self.sasl_port = sasl_port
        self.ssl_port = ssl_port
        self.users = dict(users)
        self.acls = list(acls)
        self.super_users = list(super_users)
        self._ca: CertificateAuthority | None = None
        self._server: IssuedCertificate | None = None

    @property
    def sasl_bootstrap(self) -> str:
        return f"127.0.0.1:{self.sasl_port}"

    @property
    def ssl_bootstrap(self) -> str:
        return f"127.0.0.1:{self.ssl_port}"

    @property
    def ca(self) -> CertificateAuthority:
        if self._ca is None:
            raise DevstackError("no TLS material yet: the broker makes it when it starts")
        return self._ca

    @property
    def ca_file(self) -> Path:
        """What clients verify the broker's certificate against."""
        return self.ca.cert_file

    def client_certificate(self, user: str) -> IssuedCertificate:
        """A client certificate for the SSL listener, authenticating as User:<user>."""
        return self.ca.issue_client(user)

    def make_material(self) -> None:
        """A fresh CA and server certificate: nothing from an earlier start stays trusted."""
        self._ca = CertificateAuthority(self.tls_dir)
        self._server = self._ca.issue_server("kafka")

    def listeners(self) -> dict[str, int]:
        return {"SASL_SSL": self.sasl_port, "SSL": self.ssl_port}

    def broker_properties(self) -> dict[str, str]:
        if self._server is None:
            raise DevstackError("make_material() before the broker's configuration")
        supers = ["ANONYMOUS", *self.super_users]
        return {
            "sasl.enabled.mechanisms": SCRAM,
            f"listener.name.sasl_ssl.{SCRAM.lower()}.sasl.jaas.config":
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(self._server.keystore_file),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.ca.cert_file),
            "listener.name.ssl.ssl.client.auth": "required",
            "ssl.principal.mapping.rules": "RULE:^CN=([^,]+)$/$1/,DEFAULT",
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": ";".join(f"User:{name}" for name in supers),
            "allow.everyone.if.no.acl.found": "false",
        }  # fmt: skip

    def format_arguments(self) -> list[str]:
        """`--add-scram` for each user: SCRAM credentials exist from the first start on."""
        args: list[str] = []
        for name, password in self.users.items():
            if any(c in name + password for c in ",=[]\"'"):
                raise DevstackError(f"user {name!r}: names and passwords without ,=[]\"'")
            args += ["--add-scram", f"{SCRAM}=[name={name},password={password}]"]
        return args

    async def apply_acls(self, plaintext_bootstrap: str, timeout: float = 30.0) -> None:
        """Create the ACLs (as ANONYMOUS, a super user on PLAINTEXT) and return once the
        broker lists every one of them."""
        if not self.acls:
            return
        client = AIOKafkaClient(bootstrap_servers=plaintext_bootstrap, request_timeout_ms=10_000)
        await client.bootstrap()
        try:
            node = client.get_random_node()
            response = await client.send(node, _CreateAcls([acl.wire() for acl in self.acls]))
            for code, message in response.creation_responses:
                if code:
                    raise DevstackError(f"creating ACLs: {for_code(code).__name__} {message}")
            deadline = time.monotonic() + timeout
            while (seen := await _count_acls(client, node)) < len(set(self.acls)):
                if time.monotonic() > deadline:
                    raise DevstackError(f"the broker lists {seen} of {len(self.acls)} ACLs")
                await asyncio.sleep(0.05)
        finally:
            await client.close()


class _CreateAcls(Request[CreateAclsRequest_v1]):  # type: ignore[misc]  # untyped aiokafka
    """Many bindings in one CreateAcls request (aiokafka has the protocol, no admin call)."""

    API_KEY = 30

    def __init__(self, creations: list[tuple[int, str, int, str, str, int, int]]) -> None:
        self._creations = creations

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class(self._creations)


class _DescribeAllAcls(Request[DescribeAclsRequest_v1]):  # type: ignore[misc]
    """Every ACL the broker knows (v1: aiokafka's v2 struct lacks the flexible header)."""

    API_KEY = 29

    def build(self, request_struct_class: type[DescribeAclsRequest_v1]) -> DescribeAclsRequest_v1:
        return request_struct_class(_ANY, None, _ANY, None, None, _ANY, _ANY)


async def _count_acls(client: AIOKafkaClient, node: int) -> int:
    response = await client.send(node, _DescribeAllAcls())
    if response.error_code:
        raise DevstackError(f"describing ACLs: {response.error_message}")
    return sum(len(acls) for *_, acls in response.resources)
